// The Vector engine's vtranspose on the host: dst (cols x rows) from src (rows x cols).
// 4-byte elements move in 16 x 16 AVX-512 blocks; 2-byte elements as 4-byte pairs of two
// adjacent source rows (the two values each destination row holds side by side); the edges
// and other element sizes element by element, in blocks of src and dst that stay in cache.
#pragma once
#include <cstdint>

namespace tessera::sim {

// element: 1, 2, 4 or 8 bytes. dst and src must not overlap.
void transpose_elements(uint8_t* dst, const uint8_t* src, int64_t rows, int64_t cols, int64_t element);

}  // namespace tessera::sim
