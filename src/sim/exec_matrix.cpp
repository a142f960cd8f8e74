// mma: operand checks (dtypes the chip's matrix engine takes, tiles in the scratchpad, acc
// apart from its inputs), then the host kernel of mma_kernel.h.
#include <string>

#include "sim/exec_context.h"
#include "sim/mma_kernel.h"

namespace tessera::sim {

namespace {

// The chip's name for the matrix input `dtype`; faults for dtypes no matrix engine takes.
arch::MatrixDtype matrix_dtype(DType dtype) {
  switch (dtype) {
    case DType::BF16: return arch::MatrixDtype::bf16;
    case DType::F16: return arch::MatrixDtype::fp16;
    case DType::F8E4M3:
    case DType::F8E5M2: return arch::MatrixDtype::fp8;
    default: fault("dtype {} is not a matrix input dtype (bf16, f16, f8e4m3, f8e5m2)", dtype_name(dtype));
  }
}

}  // namespace

void execute_mma(const ExecContext& ctx) {
  int64_t m = ctx.count(3), n = ctx.count(4), k = ctx.count(5);
  DType dtype = ctx.dtype(6);
  arch::MatrixDtype kind = matrix_dtype(dtype);
  if (!ctx.chip.supports(kind)) {
    std::string supported;
    for (arch::MatrixDtype d : ctx.chip.matrix.dtypes)
      supported += fmt::format("{}{}", supported.empty() ? "" : ", ", arch::matrix_dtype_name(d));
    fault("chip {} has no {} matrix inputs (matrix.dtypes: {})", ctx.chip.name, dtype_name(dtype), supported);
  }
  bool accumulate = ctx.as<isa::AccMode>(7) == isa::AccMode::Accumulate;
  auto* acc = reinterpret_cast<float*>(ctx.tile(0, m, n, DType::F32));
  const uint8_t* a = ctx.tile(1, m, k, dtype);
  const uint8_t* b = ctx.tile(2, k, n, dtype);
  int64_t acc_bytes = m * n * 4, element = static_cast<int64_t>(dtype_size(dtype));
  if (overlaps(acc, acc_bytes, a, m * k * element)) fault("acc and a overlap");
  if (overlaps(acc, acc_bytes, b, k * n * element)) fault("acc and b overlap");
  mma_tile(acc, a, b, dtype, m, n, k, accumulate);
}

}  // namespace tessera::sim
