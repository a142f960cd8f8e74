// Operand helpers shared by the engine timing models: the checked matrix input dtype and the
// interval of an mma.
#include "sim/timing_operands.h"

#include <algorithm>

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

Interval mma_interval(const IssuedInstruction& issued, double ready_cycle, double compute_cycles, int64_t spm_bytes,
                      int64_t m, int64_t n, int64_t k, SharedResources& resources) {
  Interval interval;
  interval.start_cycle = ready_cycle;
  interval.compute_cycles = compute_cycles;
  double compute_end = ready_cycle + compute_cycles;
  interval.end_cycle = std::max(compute_end, resources.transfer(Level::Spm, spm_bytes, ready_cycle, issued.core));
  interval.memory_wait_cycles = interval.end_cycle - compute_end;
  interval.bytes[static_cast<int>(Level::Spm)] = spm_bytes;
  interval.flops = 2.0 * static_cast<double>(m * n * k);
  return interval;
}

}  // namespace tessera::sim
