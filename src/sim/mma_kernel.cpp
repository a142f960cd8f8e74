// The mma host kernel (see mma_kernel.h). Inputs are converted to f32 once per call; the
// micro-kernel reads, for each p in increasing order, up to kPanel columns of b's row p in
// place (masked at the edge) and broadcasts a[i][p] for up to kRows rows of acc, keeping the
// accumulators in registers through all of k.
#include "sim/mma_kernel.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "sim/host_threads.h"

namespace tessera::sim {

namespace {

// Below this many multiply-adds a call runs on the calling thread alone.
constexpr int64_t kParallelMacs = int64_t{1} << 20;

// Whether a call of `macs` multiply-adds runs on the host's threads. Inside an active parallel
// region or on the untimed run's host threads (host_threads.h) it runs alone without entering
// an OpenMP construct: a nested region, even of one thread, costs a team's allocation, and the
// untimed run makes thousands of such calls per training step.
bool worth_threads(int64_t macs) { return macs >= kParallelMacs && !omp_in_parallel() && !on_host_threads(); }

// Converts `count` elements of `dtype` at `src` to f32.
void to_f32(const void* src, DType dtype, float* dst, int64_t count) {
  convert_elements(src, dtype, dst, DType::F32, static_cast<size_t>(count));
}

#ifdef __AVX512F__

constexpr int kRows = 6;     // rows of acc per micro-kernel at most
constexpr int kVectors = 4;  // 16-float vectors per panel at most: 6 x 4 accumulators in registers
constexpr int kPanel = kVectors * 16;

// acc rows [0, R) x columns [0, 16 V) (valid ones in `masks`) over all k, b read in place.
template <int R, int V>
void micro_kernel(const float* a, int64_t lda, const float* b, int64_t ldb, int64_t k, float* acc, int64_t ldc,
                  const __mmask16* masks, bool accumulate) {
  __m512 sum[R][V];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v)
      sum[r][v] = accumulate ? _mm512_maskz_loadu_ps(masks[v], acc + r * ldc + v * 16) : _mm512_setzero_ps();
  for (int64_t p = 0; p < k; ++p) {
    __m512 bv[V];
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) bv[v] = _mm512_maskz_loadu_ps(masks[v], b + p * ldb + v * 16);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      __m512 ar = _mm512_set1_ps(a[r * lda + p]);
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v) sum[r][v] = _mm512_fmadd_ps(ar, bv[v], sum[r][v]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) _mm512_mask_storeu_ps(acc + r * ldc + v * 16, masks[v], sum[r][v]);
}

using MicroKernel = void (*)(const float*, int64_t, const float*, int64_t, int64_t, float*, int64_t,
                             const __mmask16*, bool);
template <int V>
constexpr MicroKernel kRowKernels[kRows + 1] = {nullptr,           micro_kernel<1, V>, micro_kernel<2, V>,
                                                micro_kernel<3, V>, micro_kernel<4, V>, micro_kernel<5, V>,
                                                micro_kernel<6, V>};
// By vectors, then rows.
constexpr const MicroKernel* kMicroKernels[kVectors + 1] = {nullptr, kRowKernels<1>, kRowKernels<2>, kRowKernels<3>,
                                                            kRowKernels<4>};

// Converts `count` elements to f32 in chunks shared among the threads of the enclosing team.
void to_f32_shared(const void* src, DType dtype, float* dst, int64_t count) {
  constexpr int64_t kChunk = 16384;
  auto element = static_cast<int64_t>(dtype_size(dtype));
#pragma omp for schedule(static)
  for (int64_t begin = 0; begin < count; begin += kChunk)
    to_f32(static_cast<const uint8_t*>(src) + begin * element, dtype, dst + begin, std::min(kChunk, count - begin));
}

// The work of one call as numbered tasks, each one column panel and a group of row blocks of
// acc; tasks write disjoint parts of acc.
struct Tasks {
  const float *a, *b;
  float* acc;
  int64_t m, n, k, groups, blocks_per_group;
  bool accumulate;

  void run(int64_t task) const {
    int64_t row_blocks = (m + kRows - 1) / kRows;
    int64_t jb = task / groups, group = task % groups;
    int64_t j0 = jb * kPanel;
    int64_t cols = std::min<int64_t>(kPanel, n - j0);
    int vectors = static_cast<int>((cols + 15) / 16);
    __mmask16 masks[kVectors];
    for (int v = 0; v < kVectors; ++v) {
      int64_t valid = std::clamp<int64_t>(cols - v * 16, 0, 16);
      masks[v] = static_cast<__mmask16>((uint32_t{1} << valid) - 1);
    }
    for (int64_t ib = group * blocks_per_group; ib < std::min(row_blocks, (group + 1) * blocks_per_group); ++ib) {
      int64_t i0 = ib * kRows;
      int rows = static_cast<int>(std::min<int64_t>(kRows, m - i0));
      kMicroKernels[vectors][rows](a + i0 * k, k, b + j0, n, k, acc + i0 * n + j0, n, masks, accumulate);
    }
  }
};

// a and b are converted to f32 once per call, by all threads; then the tasks are handed out
// dynamically (a host thread may be descheduled).
void mma_f32(float* acc, const void* a, const void* b, DType dtype, int64_t m, int64_t n, int64_t k,
             bool accumulate) {
  thread_local std::vector<float> a32, b32;
  a32.resize(static_cast<size_t>(m * k));
  b32.resize(static_cast<size_t>(k * n));
  constexpr int64_t kTasks = 16;  // enough to balance a few threads
  int64_t row_blocks = (m + kRows - 1) / kRows, col_blocks = (n + kPanel - 1) / kPanel;
  int64_t groups = std::clamp<int64_t>((kTasks + col_blocks - 1) / col_blocks, 1, row_blocks);
  float* a_f32 = a32.data();  // the calling thread's buffers, shared with the team
  float* b_f32 = b32.data();
  Tasks tasks{a_f32, b_f32, acc, m, n, k, groups, (row_blocks + groups - 1) / groups, accumulate};
  int64_t count = col_blocks * groups;

  if (!worth_threads(m * n * k)) {
    to_f32(a, dtype, a_f32, m * k);
    to_f32(b, dtype, b_f32, k * n);
    for (int64_t task = 0; task < count; ++task) tasks.run(task);
    return;
  }
#pragma omp parallel
  {
    to_f32_shared(a, dtype, a_f32, m * k);
    to_f32_shared(b, dtype, b_f32, k * n);  // each omp for ends at a barrier
#pragma omp for schedule(dynamic, 1) nowait
    for (int64_t task = 0; task < count; ++task) tasks.run(task);
  }
}

#else

// Without AVX-512: the same order per element, vectorised by the compiler over j.
void mma_f32(float* acc, const void* a, const void* b, DType dtype, int64_t m, int64_t n, int64_t k,
             bool accumulate) {
  std::vector<float> a32(static_cast<size_t>(m * k)), b32(static_cast<size_t>(k * n));
  to_f32(a, dtype, a32.data(), m * k);
  to_f32(b, dtype, b32.data(), k * n);
#pragma omp parallel for schedule(static) if (worth_threads(m * n * k))
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
