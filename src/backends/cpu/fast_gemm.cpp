// Matrix products on OpenBLAS sgemm, threaded by OpenMP over fixed pieces of the output.
//
// OpenBLAS runs single-threaded (set in FastBackend's constructor); each product is cut into
// 1, 2, 4 or 8 column (or row) panels chosen from the shape alone, and the panels of all
// batch entries are shared out to the threads. sgemm's summation order depends on the panel
// shape, so a plan that ignores the thread count keeps results identical for any thread count.
// BF16 operands take the native bf16 kernel (fast_gemm_bf16.cpp) where the CPU has one; else
// they are widened to f32 once and a BF16 output is rounded from an f32 result.
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

struct Operand {
  const void* data;
  DType dtype;  // F32 or BF16
};

// Rows [lo, hi) (or columns, when `columns`) of a row-major (rows, cols) matrix as f32: the
// matrix itself when it is F32, else a packed converted copy in `scratch`. Sets `ld`.
const float* panel(Operand m, int64_t rows, int64_t cols, bool columns, int64_t lo, int64_t hi,
                   std::vector<float>& scratch, int64_t& ld) {
  if (m.dtype == DType::F32) {
    ld = cols;
    return static_cast<const float*>(m.data) + (columns ? lo : lo * cols);
  }
  const auto* bits = static_cast<const fast::bf16*>(m.data);
  scratch.resize(static_cast<size_t>((columns ? rows : hi - lo) * (columns ? hi - lo : cols)));
  if (!columns) {
    ld = cols;
    fast::convert(bits + lo * cols, m.dtype, scratch.data(), DType::F32, (hi - lo) * cols);
    return scratch.data();
  }
  ld = hi - lo;
  for (int64_t r = 0; r < rows; ++r)
    fast::convert(bits + r * cols + lo, m.dtype, scratch.data() + r * ld, DType::F32, ld);
  return scratch.data();
}

// out (batch, M, N) f32 = op(a) @ op(b) (+ out). The operand that the plan splits into panels
// is converted panel by panel inside its task (kept in cache); the other must be F32.
void gemm_panels(Operand a, Operand b, float* out, const MatmulArgs& g, const Plan& plan) {
  int64_t a_cols = g.transpose_a ? g.m : g.k, b_cols = g.transpose_b ? g.k : g.n;
  int64_t tasks = g.batch * plan.pieces;
  double total_flops = 2.0 * static_cast<double>(g.m) * g.n * g.k * g.batch;
  size_t a_size = dtype_size(a.dtype), b_size = dtype_size(b.dtype);
#pragma omp parallel for schedule(static) if (tasks > 1 && total_flops > 2.0e6)
  for (int64_t t = 0; t < tasks; ++t) {
    thread_local std::vector<float> scratch;
    int64_t bi = t / plan.pieces, piece = t % plan.pieces;
    Operand ab{static_cast<const char*>(a.data) + bi * g.batch_stride_a * a_size, a.dtype};
    Operand bb{static_cast<const char*>(b.data) + bi * g.batch_stride_b * b_size, b.dtype};
    float* C = out + bi * g.batch_stride_out;
    int64_t m = g.m, n = g.n, lda = a_cols, ldb = b_cols;
    const float *A, *B;
    if (plan.split_n) {
      auto [lo, hi] = piece_range(g.n, plan.pieces, piece);
      n = hi - lo;
      if (n == 0) continue;
      A = static_cast<const float*>(ab.data);
      B = panel(bb, g.k, b_cols, !g.transpose_b, lo, hi, scratch, ldb);
      C += lo;
    } else {
      auto [lo, hi] = piece_range(g.m, plan.pieces, piece);
      m = hi - lo;
      if (m == 0) continue;
      A = panel(ab, g.k, a_cols, g.transpose_a, lo, hi, scratch, lda);
      B = static_cast<const float*>(bb.data);
      C += lo * g.n;
    }
    cblas_sgemm(CblasRowMajor, g.transpose_a ? CblasTrans : CblasNoTrans,
                g.transpose_b ? CblasTrans : CblasNoTrans, static_cast<int>(m),
                static_cast<int>(n), static_cast<int>(g.k), 1.0f, A, static_cast<int>(lda), B,
                static_cast<int>(ldb), g.accumulate ? 1.0f : 0.0f, C, static_cast<int>(g.n));
  }
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
  gemm_panels({a, DType::F32}, {b, DType::F32}, out, g, plan_for(g.m, g.n, g.k));
}

}  // namespace fast

void FastBackend::matmul(const View& a, const View& b, const View& out, const MatmulArgs& args) {
  // Batches of a narrow output are converted as one block, so they must be packed.
  bool batch_ok = args.batch == 1 || args.batch_stride_out == args.m * args.n ||
                  (out.dtype == DType::F32 && args.batch_stride_out > args.m * args.n);
  bool sizes_ok = args.m * args.n <= INT32_MAX && args.m * args.k <= INT32_MAX &&
                  args.n * args.k <= INT32_MAX;
  if (!fast::is_f32_or_bf16(a) || !fast::is_f32_or_bf16(b) || !fast::is_f32_or_bf16(out) || !batch_ok ||
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
  if constexpr (fast::kNativeBf16Gemm) {
    if (a.dtype == DType::BF16 && b.dtype == DType::BF16)
      return fast::gemm_bf16(static_cast<const fast::bf16*>(a.data), static_cast<const fast::bf16*>(b.data),
                             out.data, out.dtype, g);
  }
  // The operand split into panels is converted per panel; the other one whole, up front.
  Plan plan = plan_for(g.m, g.n, g.k);
  thread_local std::vector<float> whole_f32, out_f32;
  Operand A{a.data, a.dtype}, B{b.data, b.dtype};
  if (plan.split_n)
    A = {as_f32(a, span(g.batch, g.batch_stride_a, g.m * g.k), whole_f32), DType::F32};
  else
    B = {as_f32(b, span(g.batch, g.batch_stride_b, g.k * g.n), whole_f32), DType::F32};
  if (out.dtype == DType::F32) {
    gemm_panels(A, B, out.as<float>(), g, plan);
    return;
  }
  int64_t out_n = span(g.batch, g.batch_stride_out, g.m * g.n);
  out_f32.resize(static_cast<size_t>(out_n));
  if (g.accumulate) fast::convert(out.data, out.dtype, out_f32.data(), DType::F32, out_n);
  gemm_panels(A, B, out_f32.data(), g, plan);
  fast::convert(out_f32.data(), DType::F32, out.data, out.dtype, out_n);
}

}  // namespace tessera
