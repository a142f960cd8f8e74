// What the executors of one instruction share: typed operand access and checked pointers to
// tiles in the scratchpad (range and alignment faults name the operand).
#pragma once
#include <cstdint>

#include "base/dtype.h"
#include "sim/functional.h"

namespace tessera::sim {

struct ExecContext {
  const IssuedInstruction& issued;
  MachineMemory& memory;
  const arch::ChipSpec& chip;

  const isa::Instruction& inst() const { return issued.inst; }
  const char* operand_name(int i) const;
  int64_t imm(int i) const { return inst().operands[static_cast<size_t>(i)].value; }
  template <typename E>
  E as(int i) const { return static_cast<E>(imm(i)); }
  DType dtype(int i) const { return static_cast<DType>(imm(i)); }
  const isa::Address& addr(int i) const { return inst().operands[static_cast<size_t>(i)].addr; }

  // Operand i as a count: faults unless 1 <= value <= limit.
  int64_t count(int i, int64_t limit = int64_t{1} << 40) const;
  // Faults unless `dtype` (operand i) is a float dtype.
  DType float_dtype(int i) const;
  // A (rows x cols) tile of `dtype` at operand i: in this core's scratchpad, inside it and
  // aligned to the element size.
  uint8_t* tile(int i, int64_t rows, int64_t cols, DType dtype) const;
};

// Whether the byte ranges [a, a + a_bytes) and [b, b + b_bytes) intersect.
inline bool overlaps(const void* a, int64_t a_bytes, const void* b, int64_t b_bytes) {
  auto pa = reinterpret_cast<uintptr_t>(a), pb = reinterpret_cast<uintptr_t>(b);
  return pa < pb + static_cast<uintptr_t>(b_bytes) && pb < pa + static_cast<uintptr_t>(a_bytes);
}

void execute_dma(const ExecContext& ctx);
void execute_mma(const ExecContext& ctx);
void execute_vector(const ExecContext& ctx);

}  // namespace tessera::sim
