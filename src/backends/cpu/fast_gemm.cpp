// Matrix products on OpenBLAS sgemm, threaded by OpenMP over fixed pieces of the output.
//
// OpenBLAS runs single-threaded (set in FastBackend's constructor); each product is cut into
// 1, 2, 4 or 8 column (or row) panels chosen from the shape alone, and the panels of all
// batch entries are shared out to the threads. sgemm's summation order depends on the panel
// shape, so a plan that ignores the thread count keeps results identical for any thread count.
// BF16 operands are widened to f32 once and a BF16 output is rounded from an f32 result.
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <vector>

#include "backends/cpu/fast_backend.h"
#include "backends/cpu/fast_gemm.h"
#include "backends/cpu/fast_simd.h"

namespace tessera {
namespace {

struct Plan {
  int64_t pieces = 1;
  bool split_n = true;  // panels of columns, else of rows
};

// Larger products get more panels; a panel stays >= 64 wide so sgemm keeps its speed.
Plan plan_for(int64_t m, int64_t n, int64_t k) {
  Plan plan;
  plan.split_n = n >= m;
  int64_t dim = plan.split_n ? n : m;
  double flops = 2.0 * static_cast<double>(m) * n * k;
  for (int64_t p : {8, 4, 2}) {
    if (dim >= 64 * p && flops >= p * 4.0e6) {
      plan.pieces = p;
      break;
    }
  }
  return plan;
}

// Rows [begin, end) of piece `i` of `count` over `dim`, on multiples of 16.
std::pair<int64_t, int64_t> piece_range(int64_t dim, int64_t count, int64_t i) {
  auto edge = [&](int64_t j) { return j == count ? dim : std::min(dim, (dim * j / count + 15) / 16 * 16); };
  return {edge(i), edge(i + 1)};
}

// Elements spanned by `batch` matrices of `size` elements spaced `stride` apart.
int64_t span(int64_t batch, int64_t stride, int64_t size) { return (batch - 1) * stride + size; }

// A contiguous f32 copy of n elements of dtype F32 or BF16 (no copy for F32).
const float* as_f32(const View& v, int64_t n, std::vector<float>& scratch) {
  if (v.dtype == DType::F32) return v.as<float>();
  scratch.resize(static_cast<size_t>(n));
  fast::convert(v.data, v.dtype, scratch.data(), DType::F32, n);
  return scratch.data();
}

}  // namespace

namespace fast {

void sgemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, float alpha,
           const float* a, const float* b, float beta, float* c) {
  cblas_sgemm(CblasRowMajor, transpose_a ? CblasTrans : CblasNoTrans,
              transpose_b ? CblasTrans : CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
              static_cast<int>(k), alpha, a, static_cast<int>(transpose_a ? m : k), b,
              static_cast<int>(transpose_b ? k : n), beta, c, static_cast<int>(n));
}

void gemm_f32(const float* a, const float* b, float* out, const MatmulArgs& g) {
  int64_t lda = g.transpose_a ? g.m : g.k, ldb = g.transpose_b ? g.k : g.n;
  Plan plan = plan_for(g.m, g.n, g.k);
  int64_t tasks = g.batch * plan.pieces;
  double total_flops = 2.0 * static_cast<double>(g.m) * g.n * g.k * g.batch;
#pragma omp parallel for schedule(static) if (tasks > 1 && total_flops > 2.0e6)
  for (int64_t t = 0; t < tasks; ++t) {
    int64_t bi = t / plan.pieces, piece = t % plan.pieces;
    const float* A = a + bi * g.batch_stride_a;
    const float* B = b + bi * g.batch_stride_b;
    float* C = out + bi * g.batch_stride_out;
    int64_t m = g.m, n = g.n;
    if (plan.split_n) {
      auto [lo, hi] = piece_range(g.n, plan.pieces, piece);
      n = hi - lo;
      B += g.transpose_b ? lo * ldb : lo;
      C += lo;
    } else {
      auto [lo, hi] = piece_range(g.m, plan.pieces, piece);
      m = hi - lo;
      A += g.transpose_a ? lo : lo * lda;
      C += lo * g.n;
    }
    if (m == 0 || n == 0) continue;
    cblas_sgemm(CblasRowMajor, g.transpose_a ? CblasTrans : CblasNoTrans,
                g.transpose_b ? CblasTrans : CblasNoTrans, static_cast<int>(m),
                static_cast<int>(n), static_cast<int>(g.k), 1.0f, A, static_cast<int>(lda), B,
                static_cast<int>(ldb), g.accumulate ? 1.0f : 0.0f, C, static_cast<int>(g.n));
  }
}

}  // namespace fast

void FastBackend::matmul(const View& a, const View& b, const View& out, const MatmulArgs& args) {
  // Batches of a narrow output are converted as one block, so they must be packed.
  bool batch_ok = args.batch == 1 || args.batch_stride_out == args.m * args.n ||
                  (out.dtype == DType::F32 && args.batch_stride_out > args.m * args.n);
  bool sizes_ok = args.m * args.n <= INT32_MAX && args.m * args.k <= INT32_MAX &&
                  args.n * args.k <= INT32_MAX;
  if (!fast::is_float16x(a) || !fast::is_float16x(b) || !fast::is_float16x(out) || !batch_ok ||
      !sizes_ok) {
    ReferenceBackend::matmul(a, b, out, args);
    return;
  }
  if (args.batch == 0 || args.m == 0 || args.n == 0) return;
  MatmulArgs g = args;
  // A shared right operand and a packed batch of non-transposed lefts: one tall product.
  if (g.batch > 1 && g.batch_stride_b == 0 && !g.transpose_a && g.batch_stride_a == g.m * g.k &&
      g.batch_stride_out == g.m * g.n && g.m * g.batch <= INT32_MAX) {
    g.m *= g.batch;
    g.batch = 1;
  }
  if (g.k == 0) {  // an empty sum: out = 0 (or unchanged when accumulating)
    if (!g.accumulate) {
      for (int64_t bi = 0; bi < g.batch; ++bi) {
        View o = out;
        o.data = static_cast<char*>(out.data) + bi * g.batch_stride_out * dtype_size(out.dtype);
        o.shape = {g.m * g.n};
        o.strides = {1};
        fill(o, 0.0);
      }
    }
    return;
  }
  thread_local std::vector<float> a_f32, b_f32, out_f32;
  const float* A = as_f32(a, span(g.batch, g.batch_stride_a, g.m * g.k), a_f32);
  const float* B = as_f32(b, span(g.batch, g.batch_stride_b, g.k * g.n), b_f32);
  if (out.dtype == DType::F32) {
    fast::gemm_f32(A, B, out.as<float>(), g);
    return;
  }
  int64_t out_n = span(g.batch, g.batch_stride_out, g.m * g.n);
  out_f32.resize(static_cast<size_t>(out_n));
  if (g.accumulate)
    fast::convert(out.data, out.dtype, out_f32.data(), DType::F32, out_n);
  fast::gemm_f32(A, B, out_f32.data(), g);
  fast::convert(out_f32.data(), DType::F32, out.data, out.dtype, out_n);
}

}  // namespace tessera
