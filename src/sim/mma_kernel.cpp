// The mma host kernel (see mma_kernel.h). Inputs are converted to f32 once per call: a row by
// row, b into panels of kPanel columns laid out p-major, so that the micro-kernel reads, for
// each p in increasing order, one contiguous row of its panel and broadcasts a[i][p] for
// kRows rows of acc, keeping the kRows x kPanel accumulators in registers through all of k.
#include "sim/mma_kernel.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace tessera::sim {

namespace {

// Below this many multiply-adds a call runs on the calling thread alone.
constexpr int64_t kParallelMacs = int64_t{1} << 20;

// Converts `count` elements of `dtype` at `src` to f32.
void to_f32(const void* src, DType dtype, float* dst, int64_t count) {
  convert_elements(src, dtype, dst, DType::F32, static_cast<size_t>(count));
}

#ifdef __AVX512F__

const uint8_t* row_of(const void* tile, int64_t row, int64_t cols, DType dtype) {
  return static_cast<const uint8_t*>(tile) + row * cols * static_cast<int64_t>(dtype_size(dtype));
}

constexpr int kRows = 8;     // rows of acc per micro-kernel
constexpr int kVectors = 3;  // 16-float vectors per panel row
constexpr int kPanel = kVectors * 16;

// acc rows [0, R) x the panel's columns (valid ones in `masks`) over all k.
template <int R>
void micro_kernel(const float* a, int64_t lda, const float* panel, int64_t k, float* acc, int64_t ldc,
                  const __mmask16* masks, bool accumulate) {
  __m512 sum[R][kVectors];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 3
    for (int v = 0; v < kVectors; ++v)
      sum[r][v] = accumulate ? _mm512_maskz_loadu_ps(masks[v], acc + r * ldc + v * 16) : _mm512_setzero_ps();
  for (int64_t p = 0; p < k; ++p) {
    __m512 b[kVectors];
#pragma GCC unroll 3
    for (int v = 0; v < kVectors; ++v) b[v] = _mm512_loadu_ps(panel + p * kPanel + v * 16);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      __m512 ar = _mm512_set1_ps(a[r * lda + p]);
#pragma GCC unroll 3
      for (int v = 0; v < kVectors; ++v) sum[r][v] = _mm512_fmadd_ps(ar, b[v], sum[r][v]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 3
    for (int v = 0; v < kVectors; ++v) _mm512_mask_storeu_ps(acc + r * ldc + v * 16, masks[v], sum[r][v]);
}

using MicroKernel = void (*)(const float*, int64_t, const float*, int64_t, float*, int64_t, const __mmask16*, bool);
constexpr MicroKernel kMicroKernels[kRows + 1] = {nullptr,          micro_kernel<1>, micro_kernel<2>,
                                                  micro_kernel<3>,  micro_kernel<4>, micro_kernel<5>,
                                                  micro_kernel<6>,  micro_kernel<7>, micro_kernel<8>};

// Work is handed out dynamically (a host thread may be descheduled) in tasks of one column
// panel and a group of row blocks; a thread converts a once, when it gets its first task, and
// packs each task's panel into a buffer of its own. Tasks write disjoint parts of acc.
void mma_f32(float* acc, const void* a, const void* b, DType dtype, int64_t m, int64_t n, int64_t k,
             bool accumulate) {
  constexpr int64_t kTasks = 16;  // enough to balance a few threads
  int64_t row_blocks = (m + kRows - 1) / kRows, col_blocks = (n + kPanel - 1) / kPanel;
  int64_t groups = std::clamp<int64_t>((kTasks + col_blocks - 1) / col_blocks, 1, row_blocks);
  int64_t blocks_per_group = (row_blocks + groups - 1) / groups;
  bool parallel = m * n * k >= kParallelMacs;

#pragma omp parallel if (parallel)
  {
    thread_local std::vector<float> a32, panel, row;
    bool converted = false;
#pragma omp for schedule(dynamic, 1) nowait
    for (int64_t task = 0; task < col_blocks * groups; ++task) {
      int64_t jb = task / groups, group = task % groups;
      int64_t j0 = jb * kPanel;
      if (!converted) {
        a32.resize(static_cast<size_t>(m * k));
        for (int64_t i = 0; i < m; ++i) to_f32(row_of(a, i, k, dtype), dtype, a32.data() + i * k, k);
        converted = true;
      }
      // panel (k, kPanel): b's columns j0 .. j0 + kPanel - 1, zero beyond n.
      int64_t cols = std::min<int64_t>(kPanel, n - j0);
      auto element = static_cast<int64_t>(dtype_size(dtype));
      panel.resize(static_cast<size_t>(k * kPanel));
      row.assign(kPanel, 0.0f);
      for (int64_t p = 0; p < k; ++p) {
        to_f32(row_of(b, p, n, dtype) + j0 * element, dtype, row.data(), cols);
        std::copy_n(row.data(), kPanel, panel.data() + p * kPanel);
      }
      __mmask16 masks[kVectors];
      for (int v = 0; v < kVectors; ++v) {
        int64_t valid = std::clamp<int64_t>(cols - v * 16, 0, 16);
        masks[v] = static_cast<__mmask16>((uint32_t{1} << valid) - 1);
      }
      for (int64_t ib = group * blocks_per_group; ib < std::min(row_blocks, (group + 1) * blocks_per_group); ++ib) {
        int64_t i0 = ib * kRows;
        int rows = static_cast<int>(std::min<int64_t>(kRows, m - i0));
        kMicroKernels[rows](a32.data() + i0 * k, k, panel.data(), k, acc + i0 * n + j0, n, masks, accumulate);
      }
    }
  }
}

#else

// Without AVX-512: the same order per element, vectorised by the compiler over j.
void mma_f32(float* acc, const void* a, const void* b, DType dtype, int64_t m, int64_t n, int64_t k,
             bool accumulate) {
  std::vector<float> a32(static_cast<size_t>(m * k)), b32(static_cast<size_t>(k * n));
  to_f32(a, dtype, a32.data(), m * k);
  to_f32(b, dtype, b32.data(), k * n);
  bool parallel = m * n * k >= kParallelMacs;
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t i = 0; i < m; ++i) {
    float* c = acc + i * n;
    if (!accumulate) std::fill_n(c, n, 0.0f);
    for (int64_t p = 0; p < k; ++p) {
      float ai = a32[static_cast<size_t>(i * k + p)];
      const float* bp = b32.data() + p * n;
      for (int64_t j = 0; j < n; ++j) c[j] = std::fma(ai, bp[j], c[j]);
    }
  }
}

#endif

}  // namespace

void mma_tile(float* acc, const void* a, const void* b, DType dtype, int64_t m, int64_t n, int64_t k,
              bool accumulate) {
  mma_f32(acc, a, b, dtype, m, n, k, accumulate);
}

}  // namespace tessera::sim
