// The matrix input dtype of an mma, checked against the chip.
#include "sim/timing_operands.h"

#include "base/error.h"

namespace tessera::sim {

arch::MatrixDtype matrix_input_dtype(const ChipSpec& chip, const isa::Instruction& mma, DType dtype) {
  arch::MatrixDtype matrix_dtype = arch::MatrixDtype::bf16;
  switch (dtype) {
    case DType::BF16: matrix_dtype = arch::MatrixDtype::bf16; break;
    case DType::F16: matrix_dtype = arch::MatrixDtype::fp16; break;
    case DType::F8E4M3:
    case DType::F8E5M2: matrix_dtype = arch::MatrixDtype::fp8; break;
    default: fail("line {}: mma: {} is not a matrix input dtype (bf16, f16, f8e4m3, f8e5m2)", mma.line, dtype_name(dtype));
  }
  if (!chip.supports(matrix_dtype)) {
    std::string supported;
    for (arch::MatrixDtype d : chip.matrix.dtypes) supported += (supported.empty() ? "" : ", ") + std::string(arch::matrix_dtype_name(d));
    fail("line {}: mma: chip {} does not multiply {} inputs (its matrix engine takes {})", mma.line, chip.name,
         dtype_name(dtype), supported);
  }
  return matrix_dtype;
}

}  // namespace tessera::sim
