// Dispatch of issued instructions to their executors, and the checked operand access they
// share (exec_context.h).
#include "sim/functional.h"

#include "base/error.h"
#include "sim/exec_context.h"

namespace tessera::sim {

const char* ExecContext::operand_name(int i) const {
  return isa::opcode_info(inst().op).operands[static_cast<size_t>(i)].name;
}

int64_t ExecContext::count(int i, int64_t limit) const {
  int64_t value = imm(i);
  if (value < 1 || value > limit) fault("{} = {} is outside [1, {}]", operand_name(i), value, limit);
  return value;
}

DType ExecContext::float_dtype(int i) const {
  DType d = dtype(i);
  if (!is_floating(d)) fault("{} {} is not a float dtype", operand_name(i), dtype_name(d));
  return d;
}

uint8_t* ExecContext::tile(int i, int64_t rows, int64_t cols, DType dtype) const {
  const isa::Address& a = addr(i);
  const char* name = operand_name(i);
  if (a.space != isa::Space::Spm) fault("{} is in {}; the operand must be in spm", name, isa::space_name(a.space));
  if (a.core >= 0 && a.core != issued.core)
    fault("{} names spm@{}; only DMA reaches another core's scratchpad", name, a.core);
  Memory& spm = memory.spm(issued.core);
  auto element = static_cast<int64_t>(dtype_size(dtype));
  // rows and cols are counts below 2^40: their product in 128 bits cannot overflow.
  if (static_cast<__int128>(rows) * cols * element > spm.size_bytes())
    fault("{}: a {} x {} {} tile is larger than the {}-byte scratchpad", name, rows, cols, dtype_name(dtype),
          spm.size_bytes());
  int64_t bytes = rows * cols * element;
  if (a.offset < 0 || a.offset > spm.size_bytes() - bytes)
    fault("{}: spm[{:#x}, {:#x}) is outside the {}-byte scratchpad", name, a.offset, a.offset + bytes,
          spm.size_bytes());
  if (a.offset % element != 0)
    fault("{}: spm[{:#x}] is not aligned to the {}-byte {} elements", name, a.offset, element, dtype_name(dtype));
  return spm.span(a.offset, bytes);
}

void execute(const IssuedInstruction& issued, MachineMemory& memory, const arch::ChipSpec& chip) {
  ExecContext ctx{issued, memory, chip};
  switch (isa::opcode_info(issued.inst.op).engine) {
    case isa::Engine::Dma: return execute_dma(ctx);
    case isa::Engine::Matrix: return execute_mma(ctx);
    case isa::Engine::Vector: return execute_vector(ctx);
    case isa::Engine::Scalar: break;
  }
  TS_ASSERT(!"a front-end instruction reached an engine");
}

}  // namespace tessera::sim
