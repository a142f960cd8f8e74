// "vector": lanes x ops_per_cycle fp32 operations per cycle. Each instruction costs its
// elements times the operations one element needs (table below), and its tiles stream through
// the core's scratchpad, which stretches it when the scratchpad is the slower of the two.
#include <algorithm>

#include "sim/timing_operands.h"

namespace tessera::sim {

namespace {

// Operations per element. Transcendentals, square roots, reciprocals and divisions are
// taken as 4 (a table lookup plus Newton steps); gelu (tanh form) as 8, and vrandom's 64-bit
// mix (three multiplies, three shift-xors, the adds) as 8.
double unary_ops(isa::UnaryFn fn) {
  static const double ops[] = {/*relu*/ 1, /*gelu*/ 8, /*exp*/ 4, /*log*/ 4, /*neg*/ 1, /*sqrt*/ 4, /*recip*/ 4,
                               /*copy*/ 1};
  return ops[static_cast<size_t>(fn)];
}
double binary_ops(isa::BinaryFn fn) { return fn == isa::BinaryFn::Div ? 4 : 1; }
constexpr double kRandomOps = 8;

// What an instruction does: elements, operations per element, scratchpad bytes, flops.
struct VectorWork {
  int64_t elements = 0;
  double ops_per_element = 1;
  int64_t spm_bytes = 0;
  double flops = 0;
};

VectorWork vector_work(const isa::Instruction& inst) {
  using isa::Opcode;
  VectorWork w;
  auto size = [&](size_t i) { return static_cast<int64_t>(dtype_size(dtype_operand(inst, i))); };
  switch (inst.op) {
    case Opcode::VUnary: {
      w.elements = imm_operand(inst, 3) * imm_operand(inst, 4);
      auto fn = static_cast<isa::UnaryFn>(imm_operand(inst, 0));
      w.ops_per_element = unary_ops(fn);
      w.spm_bytes = 2 * w.elements * size(5);
      w.flops = fn == isa::UnaryFn::Copy ? 0 : static_cast<double>(w.elements);
      break;
    }
    case Opcode::VBinary: {
      int64_t rows = imm_operand(inst, 4), cols = imm_operand(inst, 5);
      w.elements = rows * cols;
      w.ops_per_element = binary_ops(static_cast<isa::BinaryFn>(imm_operand(inst, 0)));
      auto bcast = static_cast<isa::Broadcast>(imm_operand(inst, 7));
      int64_t b_elements = bcast == isa::Broadcast::None  ? w.elements
                           : bcast == isa::Broadcast::Row ? cols
                           : bcast == isa::Broadcast::Col ? rows
                                                          : 1;
      w.spm_bytes = (2 * w.elements + b_elements) * size(6);
      w.flops = static_cast<double>(w.elements);
      break;
    }
    case Opcode::VReduce: {
      int64_t rows = imm_operand(inst, 3);
      w.elements = rows * imm_operand(inst, 4);
      w.spm_bytes = w.elements * size(5) + rows * 4;
      w.flops = static_cast<double>(w.elements);
      break;
    }
    case Opcode::VConvert:
      w.elements = imm_operand(inst, 4) * imm_operand(inst, 5);
      w.spm_bytes = w.elements * (size(1) + size(3));
      break;
    case Opcode::VTranspose:
      w.elements = imm_operand(inst, 2) * imm_operand(inst, 3);
      w.spm_bytes = 2 * w.elements * size(4);
      break;
    case Opcode::VGather:
      w.elements = imm_operand(inst, 3) * imm_operand(inst, 4);
      w.spm_bytes = 2 * w.elements * size(6) + imm_operand(inst, 3) * 4;
      break;
    case Opcode::VScatterAdd:
      w.elements = imm_operand(inst, 3) * imm_operand(inst, 4);
      w.spm_bytes = 3 * w.elements * size(6) + imm_operand(inst, 3) * 4;
      w.flops = static_cast<double>(w.elements);
      break;
    case Opcode::VFill:
      w.elements = imm_operand(inst, 2) * imm_operand(inst, 3);
      w.spm_bytes = w.elements * size(4);
      break;
    case Opcode::VRandom:
      w.elements = imm_operand(inst, 3) * imm_operand(inst, 4);
      w.ops_per_element = kRandomOps;
      w.spm_bytes = w.elements * size(5);
      break;
    default: TS_ASSERT(false);  // not a vector instruction
  }
  return w;
}

class VectorModel : public EngineModel {
 public:
  explicit VectorModel(const ChipSpec& chip)
      : ops_per_cycle_(static_cast<double>(chip.vector.lanes) * chip.vector.ops_per_lane_cycle) {}

  Interval schedule(const IssuedInstruction& issued, double ready_cycle, SharedResources& resources) override {
    VectorWork work = vector_work(issued.inst);
    Interval interval;
    interval.start_cycle = ready_cycle;
    interval.compute_cycles = static_cast<double>(work.elements) * work.ops_per_element / ops_per_cycle_;
    double compute_end = ready_cycle + interval.compute_cycles;
    interval.end_cycle = std::max(compute_end, resources.transfer(Level::Spm, work.spm_bytes, ready_cycle, issued.core));
    interval.memory_wait_cycles = interval.end_cycle - compute_end;
    interval.bytes[static_cast<int>(Level::Spm)] = work.spm_bytes;
    interval.flops = work.flops;
    return interval;
  }

 private:
  double ops_per_cycle_;
};

REGISTER_ENGINE_MODEL("vector", VectorModel);

}  // namespace

}  // namespace tessera::sim
