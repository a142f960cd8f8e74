// Reading an issued instruction's operands by their position in the instruction table, for
// the engine timing models.
#pragma once
#include <cstdint>

#include "base/dtype.h"
#include "base/error.h"
#include "isa/isa.h"
#include "sim/timing.h"

namespace tessera::sim {

inline int64_t imm_operand(const isa::Instruction& inst, size_t i) { return inst.operands.at(i).value; }
inline const isa::Address& addr_operand(const isa::Instruction& inst, size_t i) { return inst.operands.at(i).addr; }
inline DType dtype_operand(const isa::Instruction& inst, size_t i) {
  return static_cast<DType>(inst.operands.at(i).value);
}

// The core whose scratchpad an `spm` address names (spm@N or the issuing core's own).
inline int spm_core(const isa::Address& addr, int issuing_core) { return addr.core >= 0 ? addr.core : issuing_core; }

// The matrix engine's input dtype for an mma's dtype operand; an Error naming the instruction
// when the chip's matrix engine does not take it.
arch::MatrixDtype matrix_input_dtype(const ChipSpec& chip, const isa::Instruction& mma, DType dtype);

inline int64_t divide_up(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The interval of an (m x n x k) mma that computes for `compute_cycles` from `ready_cycle`
// while moving `spm_bytes` through its core's scratchpad; it ends when both are done.
Interval mma_interval(const IssuedInstruction& issued, double ready_cycle, double compute_cycles, int64_t spm_bytes,
                      int64_t m, int64_t n, int64_t k, SharedResources& resources);

}  // namespace tessera::sim
