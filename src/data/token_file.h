// Token files: a tokenised corpus on disk, read back in one piece.
// Layout (little-endian):
//   bytes 0-4    "TSTOK"
//   byte  5      version (1)
//   byte  6      token width in bytes: 2 (u16) when vocab_size <= 65536, else 4 (u32)
//   byte  7      0 (reserved)
//   bytes 8-11   vocab_size, u32
//   bytes 12-19  count, u64
//   then count tokens of `width` bytes, each < vocab_size.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace tessera {

inline constexpr int kTokenFileVersion = 1;
inline constexpr size_t kTokenFileHeaderBytes = 20;

struct TokenFile {
  int64_t vocab_size = 0;
  std::vector<int32_t> tokens;
};

// Writes atomically (temporary file, fsync, rename). Error if vocab_size is not in [1, 2^31) or
// a token is outside [0, vocab_size) (the message gives its position).
void write_token_file(const std::string& path, std::span<const int32_t> tokens, int64_t vocab_size);

// Checks magic, version, width, that the size matches the count, and that every id is below
// vocab_size; errors name the file and, for a bad id, the position of the first one.
TokenFile read_token_file(const std::string& path);

}  // namespace tessera
