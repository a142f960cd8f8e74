// The Vector engine's f32 loops (see vector_kernels.h). `#pragma GCC ivdep` says what the
// contract guarantees: an output that is the very same array as an input carries no
// dependency from one element to the next.
#include "sim/vector_kernels.h"

#include <cmath>

#include "sim/vector_math.h"

namespace tessera::sim {

namespace {

// max and min return NaN when either input is NaN.
float nan_max(float a, float b) { return std::isnan(a) || std::isnan(b) ? NAN : (a > b ? a : b); }
float nan_min(float a, float b) { return std::isnan(a) || std::isnan(b) ? NAN : (a < b ? a : b); }
float relu(float x) { return std::isnan(x) ? x : (x > 0.0f ? x : 0.0f); }

template <typename F>
void map(const float* x, float* out, int64_t n, F f) {
#pragma GCC ivdep
  for (int64_t i = 0; i < n; ++i) out[i] = f(x[i]);
}

// One row (or a whole flattened tile) of a binary op: b contiguous, or one value.
template <typename F>
void zip(const float* a, const float* b, float* out, int64_t n, F f) {
#pragma GCC ivdep
  for (int64_t j = 0; j < n; ++j) out[j] = f(a[j], b[j]);
}
template <typename F>
void zip_value(const float* a, float b, float* out, int64_t n, F f) {
#pragma GCC ivdep
  for (int64_t j = 0; j < n; ++j) out[j] = f(a[j], b);
}

template <typename F>
void binary_loop(const float* a, const float* b, float* out, int64_t rows, int64_t cols, int64_t row_step,
                 int64_t col_step, F f) {
  int64_t n = rows * cols;
  if (row_step == 0 && col_step == 0) return zip_value(a, b[0], out, n, f);
  if ((col_step == 1 && row_step == cols) || (cols == 1 && row_step == 1)) return zip(a, b, out, n, f);
  for (int64_t i = 0; i < rows; ++i) {
    const float* a_row = a + i * cols;
    const float* b_row = b + i * row_step;
    float* out_row = out + i * cols;
    if (col_step == 0)
      zip_value(a_row, b_row[0], out_row, cols, f);
    else
      zip(a_row, b_row, out_row, cols, f);
  }
}

// Rows in groups of kRows, so that kRows independent chains of additions overlap; each row
// still adds its columns in order.
template <typename F>
void reduce_loop(const float* x, float* out, int64_t rows, int64_t cols, F f) {
  constexpr int64_t kRows = 8;
  int64_t i = 0;
  for (; i + kRows <= rows; i += kRows) {
    const float* block = x + i * cols;
    float r[kRows];
    for (int64_t k = 0; k < kRows; ++k) r[k] = block[k * cols];
    for (int64_t j = 1; j < cols; ++j)
      for (int64_t k = 0; k < kRows; ++k) r[k] = f(r[k], block[k * cols + j]);
    for (int64_t k = 0; k < kRows; ++k) out[i + k] = r[k];
  }
  for (; i < rows; ++i) {
    const float* row = x + i * cols;
    float r = row[0];
    for (int64_t j = 1; j < cols; ++j) r = f(r, row[j]);
    out[i] = r;
  }
}

}  // namespace

void unary_f32(isa::UnaryFn fn, const float* x, float* out, int64_t n) {
  switch (fn) {
    case isa::UnaryFn::Relu: return map(x, out, n, relu);
    case isa::UnaryFn::Gelu: return gelu_f32(x, out, n);
    case isa::UnaryFn::Exp: return exp_f32(x, out, n);
    case isa::UnaryFn::Log: return map(x, out, n, [](float v) { return std::log(v); });
    case isa::UnaryFn::Neg: return map(x, out, n, [](float v) { return -v; });
    case isa::UnaryFn::Sqrt: return map(x, out, n, [](float v) { return std::sqrt(v); });
    case isa::UnaryFn::Recip: return map(x, out, n, [](float v) { return 1.0f / v; });
    case isa::UnaryFn::Copy: return map(x, out, n, [](float v) { return v; });
  }
}

void binary_f32(isa::BinaryFn fn, const float* a, const float* b, float* out, int64_t rows, int64_t cols,
                int64_t b_row_step, int64_t b_col_step) {
  auto run = [&](auto f) { binary_loop(a, b, out, rows, cols, b_row_step, b_col_step, f); };
  switch (fn) {
    case isa::BinaryFn::Add: return run([](float x, float y) { return x + y; });
    case isa::BinaryFn::Sub: return run([](float x, float y) { return x - y; });
    case isa::BinaryFn::Mul: return run([](float x, float y) { return x * y; });
    case isa::BinaryFn::Div: return run([](float x, float y) { return x / y; });
    case isa::BinaryFn::Max: return run(nan_max);
    case isa::BinaryFn::Min: return run(nan_min);
  }
}

void reduce_rows_f32(isa::ReduceFn fn, const float* x, float* out, int64_t rows, int64_t cols) {
  if (fn == isa::ReduceFn::Sum) return reduce_loop(x, out, rows, cols, [](float r, float v) { return r + v; });
  reduce_loop(x, out, rows, cols, nan_max);
}

}  // namespace tessera::sim
