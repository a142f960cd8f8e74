// Sums of the fast CPU backend: reduce-sum along an axis of f32 or bf16 (bias gradients, losses) and the sum
// of squares (gradient norms). Work is cut into blocks fixed by the shape; block totals are
// combined in double in block order, so results do not depend on the thread count.
#include <omp.h>

#include <algorithm>
#include <type_traits>
#include <vector>

#include "backends/cpu/fast_backend.h"
#include "backends/cpu/fast_simd.h"

namespace tessera {
namespace {

constexpr int64_t kBlock = 4096;  // elements per partial sum

// Sum of x[0..n) (f32 or bf16) in double lanes.
template <typename T>
double block_sum(const T* x, int64_t n) {
  __m512d acc0 = _mm512_setzero_pd(), acc1 = _mm512_setzero_pd();
  for (int64_t i = 0; i < n; i += 16) {
    __m512 v = fast::load(x + i, fast::tail_mask(n - i));
    acc0 = _mm512_add_pd(acc0, _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
    acc1 = _mm512_add_pd(acc1, _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1)));
  }
  return _mm512_reduce_add_pd(_mm512_add_pd(acc0, acc1));
}

// Sum of squares of x[0..n) in double lanes.
double block_sum_squares(const float* x, int64_t n) {
  __m512d acc0 = _mm512_setzero_pd(), acc1 = _mm512_setzero_pd();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512 v = _mm512_loadu_ps(x + i);
    __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(v));
    __m512d hi = _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1));
    acc0 = _mm512_fmadd_pd(lo, lo, acc0);
    acc1 = _mm512_fmadd_pd(hi, hi, acc1);
  }
  double sum = _mm512_reduce_add_pd(_mm512_add_pd(acc0, acc1));
  for (; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
  return sum;
}

// Partial sums of `rows` rows of length n, each cut into blocks of kBlock, then combined.
template <typename T, typename BlockFn>
void row_totals(const T* x, int64_t rows, int64_t n, double* totals, BlockFn block_fn) {
  int64_t blocks = std::max<int64_t>(1, (n + kBlock - 1) / kBlock);
  std::vector<double> partial(static_cast<size_t>(rows * blocks));
  int64_t tasks = rows * blocks;
#pragma omp parallel for schedule(static) if (rows * n >= fast::kParallelMin)
  for (int64_t t = 0; t < tasks; ++t) {
    int64_t r = t / blocks, b = t % blocks;
    int64_t lo = b * kBlock, hi = std::min(n, lo + kBlock);
    partial[t] = block_fn(x + r * n + lo, hi - lo);
  }
  for (int64_t r = 0; r < rows; ++r) {
    double sum = 0.0;
    for (int64_t b = 0; b < blocks; ++b) sum += partial[r * blocks + b];
    totals[r] = sum;
  }
}

float widen(float v) { return v; }
float widen(fast::bf16 v) { return bf16_to_f32(v); }
template <typename Out>
Out narrow(double v) {
  if constexpr (std::is_same_v<Out, float>) return static_cast<float>(v);
  else return f32_to_bf16(static_cast<float>(v));
}

// out (outer, inner) = sums over n of x (outer, n, inner), in double, rounded once to Out.
template <typename In, typename Out>
void sum_axis(const In* in, Out* result, int64_t outer, int64_t n, int64_t inner) {
  if (inner == 1) {  // (outer, n): sums of rows
    std::vector<double> totals(static_cast<size_t>(outer));
    row_totals(in, outer, n, totals.data(), block_sum<In>);
    for (int64_t o = 0; o < outer; ++o) result[o] = narrow<Out>(totals[o]);
    return;
  }
  // (outer, n, inner): column sums in double, 128 columns per task, rows in order.
  constexpr int64_t kColumns = 128;
  int64_t chunks = (inner + kColumns - 1) / kColumns;
  int64_t tasks = outer * chunks;
#pragma omp parallel for schedule(static) if (outer * n * inner >= fast::kParallelMin)
  for (int64_t t = 0; t < tasks; ++t) {
    int64_t o = t / chunks, lo = (t % chunks) * kColumns, width = std::min(kColumns, inner - lo);
    double acc[kColumns] = {};
    const In* base = in + o * n * inner + lo;
    for (int64_t j = 0; j < n; ++j) {
      const In* row = base + j * inner;
      for (int64_t c = 0; c < width; ++c) acc[c] += widen(row[c]);
    }
    for (int64_t c = 0; c < width; ++c) result[o * inner + lo + c] = narrow<Out>(acc[c]);
  }
}

}  // namespace

void FastBackend::reduce(ReduceOp op, const View& x, const View& out, int64_t outer, int64_t n,
                         int64_t inner) {
  if (op != ReduceOp::Sum || !fast::is_f32_or_bf16(x) || x.dtype != out.dtype || !x.is_contiguous() ||
      !out.is_contiguous() || outer * inner == 0 || x.numel() != outer * n * inner ||
      out.numel() != outer * inner)
    return ReferenceBackend::reduce(op, x, out, outer, n, inner);
  if (x.dtype == DType::F32)
    sum_axis(x.as<float>(), out.as<float>(), outer, n, inner);
  else
    sum_axis(x.as<fast::bf16>(), out.as<fast::bf16>(), outer, n, inner);
}

double FastBackend::sum_squares(const View& x) {
  if (!fast::is_f32(x) || !x.is_contiguous()) return ReferenceBackend::sum_squares(x);
  double total = 0.0;
  row_totals(x.as<float>(), 1, x.numel(), &total, block_sum_squares);
  return total;
}

}  // namespace tessera
