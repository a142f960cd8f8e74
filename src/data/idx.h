// Reader for gzip-compressed IDX files (the MNIST / Fashion-MNIST container).
// Layout: bytes 0-1 zero, byte 2 the element type (0x08 = unsigned byte, the only one
// supported), byte 3 the rank; then `rank` big-endian u32 dimensions; then the elements,
// row-major. Images are magic 0x00000803 (N, rows, cols), labels 0x00000801 (N).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tessera {

struct IdxArray {
  std::vector<int64_t> dims;  // e.g. (N, 28, 28)
  std::vector<uint8_t> data;  // product(dims) bytes, row-major
};

// Reads the whole file (gzip, or plain bytes: zlib reads both) and checks the magic, the
// element type, that the rank is `expected_rank`, and that the data holds exactly
// product(dims) bytes. Errors name the file and what is wrong.
IdxArray read_idx_gz(const std::string& path, int expected_rank);

}  // namespace tessera
