// The GEMM kernel description (see gemm_kernel.h).
#include "compiler/gemm_kernel.h"

#include <fmt/format.h>

#include "base/error.h"

namespace tessera::compiler {

namespace {

bool is_input(DType d) { return d == DType::F32 || d == DType::BF16 || d == DType::F16; }

// Elements an operand of (rows x cols) per batch spans over all batches.
int64_t span(int64_t batch, int64_t stride, int64_t rows, int64_t cols) { return (batch - 1) * stride + rows * cols; }

}  // namespace

DType GemmKernel::matrix_dtype() const {
  return a_dtype == DType::F16 && b_dtype == DType::F16 ? DType::F16 : DType::BF16;
}

double GemmKernel::flops() const {
  return 2.0 * static_cast<double>(batch) * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
}

int64_t GemmKernel::a_bytes() const {
  return span(batch, batch_stride_a, m, k) * static_cast<int64_t>(dtype_size(a_dtype));
}
int64_t GemmKernel::b_bytes() const {
  return span(batch, batch_stride_b, k, n) * static_cast<int64_t>(dtype_size(b_dtype));
}
int64_t GemmKernel::out_bytes() const {
  return span(batch, batch_stride_out, m, n) * static_cast<int64_t>(dtype_size(out_dtype));
}

std::string to_string(const GemmKernel& k) {
  std::string batch = k.batch == 1 ? "" : fmt::format("{} x ", k.batch);
  auto operand = [&](const char* name, DType d, bool transposed, int64_t stride) {
    std::string s = fmt::format("{} {}{}", name, dtype_name(d), transposed ? " transposed" : "");
    if (k.batch > 1) s += fmt::format(" batch stride {}", stride);
    return s;
  };
  return fmt::format("gemm {}{}x{}x{}: {}, {} -> {}{} (matrix engine {})", batch, k.m, k.n, k.k,
                     operand("a", k.a_dtype, k.transpose_a, k.batch_stride_a),
                     operand("b", k.b_dtype, k.transpose_b, k.batch_stride_b),
                     operand("out", k.out_dtype, false, k.batch_stride_out), k.accumulate ? " accumulated" : "",
                     dtype_name(k.matrix_dtype()));
}

void check_kernel(const GemmKernel& k, const arch::ChipSpec& chip) {
  if (k.batch <= 0 || k.m <= 0 || k.n <= 0 || k.k <= 0)
    fail("gemm {}x{}x{}x{} (batch x M x N x K): sizes must be positive", k.batch, k.m, k.n, k.k);
  if (!is_input(k.a_dtype) || !is_input(k.b_dtype))
    fail("{}: inputs must be f32, bf16 or f16", to_string(k));
  if (!is_input(k.out_dtype)) fail("{}: the output must be f32, bf16 or f16", to_string(k));
  if (k.batch_stride_a < 0 || k.batch_stride_b < 0 || k.batch_stride_out < 0)
    fail("{}: batch strides must not be negative", to_string(k));
  arch::MatrixDtype needed = k.matrix_dtype() == DType::F16 ? arch::MatrixDtype::fp16 : arch::MatrixDtype::bf16;
  if (!chip.supports(needed))
    fail("{}: chip {}'s matrix engine has no {} inputs", to_string(k), chip.name, arch::matrix_dtype_name(needed));
}

}  // namespace tessera::compiler
