// Token file writer and reader (see token_file.h).
#include "data/token_file.h"

#include <cstring>
#include <limits>

#include "base/atomic_file.h"
#include "base/error.h"

namespace tessera {
namespace {

constexpr char kMagic[5] = {'T', 'S', 'T', 'O', 'K'};

void put_le(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>(value >> (8 * i)));
}

uint64_t get_le(const std::string& in, size_t offset, int bytes) {
  uint64_t value = 0;
  for (int i = 0; i < bytes; ++i)
    value |= uint64_t{static_cast<uint8_t>(in[offset + i])} << (8 * i);
  return value;
}

int width_for(int64_t vocab_size) { return vocab_size <= 65536 ? 2 : 4; }

}  // namespace

void write_token_file(const std::string& path, std::span<const int32_t> tokens,
                      int64_t vocab_size) {
  if (vocab_size < 1 || vocab_size > std::numeric_limits<int32_t>::max()) {
    fail("token file {}: vocabulary size {} must be in [1, 2^31)", path, vocab_size);
  }
  int width = width_for(vocab_size);
  std::string bytes(kMagic, sizeof kMagic);
  bytes.push_back(static_cast<char>(kTokenFileVersion));
  bytes.push_back(static_cast<char>(width));
  bytes.push_back(0);
  put_le(bytes, static_cast<uint64_t>(vocab_size), 4);
  put_le(bytes, tokens.size(), 8);
  bytes.reserve(bytes.size() + tokens.size() * width);
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] < 0 || tokens[i] >= vocab_size) {
      fail("token file {}: token {} at position {} is outside the vocabulary [0, {})", path,
           tokens[i], i, vocab_size);
    }
    put_le(bytes, static_cast<uint64_t>(tokens[i]), width);
  }
  write_file_atomic(path, bytes);
}

TokenFile read_token_file(const std::string& path) {
  std::string bytes = read_file_bytes(path);
  if (bytes.size() < kTokenFileHeaderBytes) {
    fail("token file {}: {} bytes is shorter than the {}-byte header", path, bytes.size(),
         kTokenFileHeaderBytes);
  }
  if (std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) {
    fail("token file {}: bad magic (expected \"TSTOK\"): not a token file", path);
  }
  int version = static_cast<uint8_t>(bytes[5]);
  if (version != kTokenFileVersion) {
    fail("token file {}: version {} is not supported (expected {})", path, version,
         kTokenFileVersion);
  }
  int width = static_cast<uint8_t>(bytes[6]);
  if (width != 2 && width != 4) fail("token file {}: token width {} must be 2 or 4", path, width);
  TokenFile file;
  file.vocab_size = static_cast<int64_t>(get_le(bytes, 8, 4));
  if (file.vocab_size < 1 || file.vocab_size > std::numeric_limits<int32_t>::max()) {
    fail("token file {}: vocabulary size {} must be in [1, 2^31)", path, file.vocab_size);
  }
  uint64_t count = get_le(bytes, 12, 8);
  uint64_t payload = bytes.size() - kTokenFileHeaderBytes;
  if (count > payload / width || count * width != payload) {
    fail("token file {}: header says {} tokens of {} bytes but {} bytes follow it", path, count,
         width, payload);
  }
  file.tokens.resize(count);
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t id = get_le(bytes, kTokenFileHeaderBytes + i * width, width);
    if (id >= static_cast<uint64_t>(file.vocab_size)) {
      fail("token file {}: token {} at position {} is outside the vocabulary [0, {})", path, id, i,
           file.vocab_size);
    }
    file.tokens[i] = static_cast<int32_t>(id);
  }
  return file;
}

}  // namespace tessera
