// Character-level tokenizer: the vocabulary is the sorted set of bytes of a training text (a
// "character" is one byte, so any UTF-8 text round-trips). Saved as JSON:
//   {"format": "tessera-char-tokenizer", "version": 1, "bytes": [10, 32, 33, ...]}
#pragma once
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tessera {

class CharTokenizer {
 public:
  // The vocabulary of `text`: its distinct bytes in increasing order. Error on empty text.
  static CharTokenizer from_text(std::string_view text);
  // Error names the file and what is wrong (not JSON, wrong format, bytes unsorted or repeated).
  static CharTokenizer load(const std::string& path);
  void save(const std::string& path) const;  // atomic

  // Error naming the character and its byte position when it is not in the vocabulary.
  std::vector<int32_t> encode(std::string_view text) const;
  // Error naming the id and its position when it is outside [0, vocab_size).
  std::string decode(std::span<const int32_t> ids) const;

  int64_t vocab_size() const { return static_cast<int64_t>(bytes_.size()); }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  explicit CharTokenizer(std::vector<uint8_t> bytes);
  std::vector<uint8_t> bytes_;      // id -> byte
  std::array<int32_t, 256> ids_{};  // byte -> id, -1 when absent
};

}  // namespace tessera
