// The vtranspose kernel (see transpose_kernel.h).
#include "sim/transpose_kernel.h"

#include <immintrin.h>

#include <algorithm>

#include "base/error.h"

namespace tessera::sim {

namespace {

// dst[j * rows + i] = src[i * cols + j] for i in [i0, i1), j in [j0, j1).
template <typename T>
void transpose_scalar(T* dst, const T* src, int64_t rows, int64_t cols, int64_t i0, int64_t i1, int64_t j0,
                      int64_t j1) {
  constexpr int64_t kBlock = 32;
  for (int64_t ib = i0; ib < i1; ib += kBlock)
    for (int64_t jb = j0; jb < j1; jb += kBlock)
      for (int64_t i = ib; i < std::min(i1, ib + kBlock); ++i)
        for (int64_t j = jb; j < std::min(j1, jb + kBlock); ++j) dst[j * rows + i] = src[i * cols + j];
}

// r[i] (row i of a 16 x 16 block of 4-byte values) -> r[k] = column k.
inline void transpose_16x16(__m512i r[16]) {
  __m512i t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {
    r[4 * i] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
    r[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
    r[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
    r[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
  }
  for (int i = 0; i < 2; ++i)
    for (int k = 0; k < 4; ++k) {
      t[8 * i + k] = _mm512_shuffle_i32x4(r[8 * i + k], r[8 * i + 4 + k], 0x88);
      t[8 * i + 4 + k] = _mm512_shuffle_i32x4(r[8 * i + k], r[8 * i + 4 + k], 0xdd);
    }
  for (int k = 0; k < 8; ++k) {
    r[k] = _mm512_shuffle_i32x4(t[k], t[8 + k], 0x88);
    r[k + 8] = _mm512_shuffle_i32x4(t[k], t[8 + k], 0xdd);
  }
}

void transpose_4byte(uint32_t* dst, const uint32_t* src, int64_t rows, int64_t cols) {
  const int64_t full_rows = rows / 16 * 16, full_cols = cols / 16 * 16;
  __m512i r[16];
  for (int64_t i0 = 0; i0 < full_rows; i0 += 16)
    for (int64_t j0 = 0; j0 < full_cols; j0 += 16) {
      for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_si512(src + (i0 + i) * cols + j0);
      transpose_16x16(r);
      for (int k = 0; k < 16; ++k) _mm512_storeu_si512(dst + (j0 + k) * rows + i0, r[k]);
    }
  transpose_scalar(dst, src, rows, cols, 0, full_rows, full_cols, cols);
  transpose_scalar(dst, src, rows, cols, full_rows, rows, 0, cols);
}

// Blocks of 32 source rows x 16 columns: rows 2i and 2i + 1 pair up into 4-byte values (row 2i
// in the low half, as dst holds them: dst[j][2i], dst[j][2i + 1]), transposed as 16 x 16.
void transpose_2byte(uint16_t* dst, const uint16_t* src, int64_t rows, int64_t cols) {
  const int64_t full_rows = rows / 32 * 32, full_cols = cols / 16 * 16;
  __m512i r[16];
  for (int64_t i0 = 0; i0 < full_rows; i0 += 32)
    for (int64_t j0 = 0; j0 < full_cols; j0 += 16) {
      for (int i = 0; i < 16; ++i) {
        __m256i even = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + (i0 + 2 * i) * cols + j0));
        __m256i odd = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + (i0 + 2 * i + 1) * cols + j0));
        r[i] = _mm512_or_si512(_mm512_cvtepu16_epi32(even), _mm512_slli_epi32(_mm512_cvtepu16_epi32(odd), 16));
      }
      transpose_16x16(r);
      for (int k = 0; k < 16; ++k) _mm512_storeu_si512(dst + (j0 + k) * rows + i0, r[k]);
    }
  transpose_scalar(dst, src, rows, cols, 0, full_rows, full_cols, cols);
  transpose_scalar(dst, src, rows, cols, full_rows, rows, 0, cols);
}

}  // namespace

void transpose_elements(uint8_t* dst, const uint8_t* src, int64_t rows, int64_t cols, int64_t element) {
  switch (element) {
    case 1: return transpose_scalar(dst, src, rows, cols, 0, rows, 0, cols);
    case 2:
      return transpose_2byte(reinterpret_cast<uint16_t*>(dst), reinterpret_cast<const uint16_t*>(src), rows, cols);
    case 4:
      return transpose_4byte(reinterpret_cast<uint32_t*>(dst), reinterpret_cast<const uint32_t*>(src), rows, cols);
    case 8:
      return transpose_scalar(reinterpret_cast<uint64_t*>(dst), reinterpret_cast<const uint64_t*>(src), rows, cols,
                              0, rows, 0, cols);
  }
  TS_ASSERT(!"an element size of 1, 2, 4 or 8 bytes");
}

}  // namespace tessera::sim
