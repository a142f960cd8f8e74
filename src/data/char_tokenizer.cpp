// Character-level tokenizer (see char_tokenizer.h).
#include "data/char_tokenizer.h"

#include <nlohmann/json.hpp>

#include "base/atomic_file.h"
#include "base/error.h"

namespace tessera {
namespace {

constexpr const char* kFormat = "tessera-char-tokenizer";
constexpr int kVersion = 1;

// 'a' for printable ASCII, otherwise the byte in hex: 0x0a.
std::string describe_byte(uint8_t byte) {
  if (byte >= 0x20 && byte < 0x7f)
    return fmt::format("'{}' (0x{:02x})", static_cast<char>(byte), byte);
  return fmt::format("0x{:02x}", byte);
}

}  // namespace

CharTokenizer::CharTokenizer(std::vector<uint8_t> bytes) : bytes_(std::move(bytes)) {
  ids_.fill(-1);
  for (size_t i = 0; i < bytes_.size(); ++i) ids_[bytes_[i]] = static_cast<int32_t>(i);
}

CharTokenizer CharTokenizer::from_text(std::string_view text) {
  if (text.empty()) fail("char tokenizer: the training text is empty");
  std::array<bool, 256> present{};
  for (char c : text) present[static_cast<uint8_t>(c)] = true;
  std::vector<uint8_t> bytes;
  for (int b = 0; b < 256; ++b) {
    if (present[b]) bytes.push_back(static_cast<uint8_t>(b));
  }
  return CharTokenizer(std::move(bytes));
}

CharTokenizer CharTokenizer::load(const std::string& path) {
  nlohmann::json json =
      nlohmann::json::parse(read_file_bytes(path), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) fail("char tokenizer {}: not valid JSON", path);
  if (!json.is_object() || json.value("format", "") != kFormat) {
    fail("char tokenizer {}: \"format\" must be \"{}\"", path, kFormat);
  }
  if (json.value("version", -1) != kVersion) {
    fail("char tokenizer {}: version {} is not supported (expected {})", path,
         json.contains("version") ? json["version"].dump() : "missing", kVersion);
  }
  const nlohmann::json& list = json["bytes"];
  if (!list.is_array() || list.empty())
    fail("char tokenizer {}: \"bytes\" must be a non-empty list", path);
  std::vector<uint8_t> bytes;
  for (size_t i = 0; i < list.size(); ++i) {
    if (!list[i].is_number_integer() || list[i].get<int64_t>() < 0 ||
        list[i].get<int64_t>() > 255) {
      fail("char tokenizer {}: bytes[{}] = {} is not a byte value in [0, 255]", path, i,
           list[i].dump());
    }
    int64_t value = list[i].get<int64_t>();
    if (!bytes.empty() && value <= bytes.back()) {
      fail(
          "char tokenizer {}: bytes[{}] = {} is not above the previous byte (the list must be "
          "sorted without repeats)",
          path, i, value);
    }
    bytes.push_back(static_cast<uint8_t>(value));
  }
  return CharTokenizer(std::move(bytes));
}

void CharTokenizer::save(const std::string& path) const {
  nlohmann::json json = {{"format", kFormat}, {"version", kVersion}, {"bytes", bytes_}};
  write_file_atomic(path, json.dump() + "\n");
}

std::vector<int32_t> CharTokenizer::encode(std::string_view text) const {
  std::vector<int32_t> ids(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    int32_t id = ids_[static_cast<uint8_t>(text[i])];
    if (id < 0) {
      fail("char tokenizer: character {} at byte {} is not in the vocabulary of {} characters",
           describe_byte(static_cast<uint8_t>(text[i])), i, bytes_.size());
    }
    ids[i] = id;
  }
  return ids;
}

std::string CharTokenizer::decode(std::span<const int32_t> ids) const {
  std::string text(ids.size(), '\0');
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= vocab_size()) {
      fail("char tokenizer: id {} at position {} is outside the vocabulary [0, {})", ids[i], i,
           vocab_size());
    }
    text[i] = static_cast<char>(bytes_[ids[i]]);
  }
  return text;
}

}  // namespace tessera
