// The front end of a core (see front_end.h) and the operand check of whole programs.
#include "sim/front_end.h"

#include "base/error.h"
#include "isa/disassembler.h"
#include "isa/operands.h"

namespace tessera::sim {

namespace {

// Two's-complement arithmetic on the 64-bit registers (wraps instead of overflowing).
int64_t wrap_add(int64_t a, int64_t b) { return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b)); }
int64_t wrap_mul(int64_t a, int64_t b) { return static_cast<int64_t>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b)); }

}  // namespace

std::string instruction_place(int core, const char* unit, int64_t index, const isa::Instruction& inst) {
  return fmt::format("core {} {}, instruction {} `{}`", core, unit, index, isa::format_instruction(inst));
}

void check_program(const isa::Program& program, int64_t chip_cores, const std::string& chip_name) {
  if (static_cast<int64_t>(program.cores.size()) > chip_cores)
    fail("the program has {} core streams; chip {} has {} cores", program.cores.size(), chip_name, chip_cores);
  for (size_t c = 0; c < program.cores.size(); ++c) {
    const std::vector<isa::Instruction>& stream = program.cores[c];
    for (size_t i = 0; i < stream.size(); ++i) {
      const isa::Instruction& inst = stream[i];
      if (static_cast<size_t>(inst.op) >= static_cast<size_t>(isa::Opcode::Count))
        fail("core {}, instruction {}: opcode {} does not exist", c, i, static_cast<int>(inst.op));
      const isa::OpcodeInfo& info = isa::opcode_info(inst.op);
      if (inst.operands.size() != info.operands.size())
        fail("core {}, instruction {} `{}`: {} operands, the instruction takes {}", c, i, info.mnemonic,
             inst.operands.size(), info.operands.size());
      for (size_t k = 0; k < inst.operands.size(); ++k) {
        std::string problem = isa::operand_problem(inst.operands[k], info.operands[k].kind);
        if (!problem.empty())
          fail("core {}, instruction {} `{}`: operand {} ({}): {}", c, i, info.mnemonic, k + 1,
               info.operands[k].name, problem);
      }
      auto place = [&] { return instruction_place(static_cast<int>(c), "front end", static_cast<int64_t>(i), inst); };
      if ((inst.op == isa::Opcode::Signal || inst.op == isa::Opcode::Wait) &&
          (inst.operands[1].value < 0 || inst.operands[1].value >= isa::kSemaphores))
        fail("{}: semaphore {} is outside 0..{}", place(), inst.operands[1].value, isa::kSemaphores - 1);
      if (inst.op == isa::Opcode::Loop && inst.operands[0].value < 1)
        fail("{}: a loop runs at least once; count {} < 1", place(), inst.operands[0].value);
    }
  }
}

void FrontEnd::resolve(const isa::Instruction& inst, IssuedInstruction& issued) const {
  issued.core = core_;
  issued.engine = isa::opcode_info(inst.op).engine;
  if (inst.op == isa::Opcode::Signal || inst.op == isa::Opcode::Wait)
    issued.engine = static_cast<isa::Engine>(inst.operands[0].value);
  issued.inst.op = inst.op;
  issued.inst.operands = inst.operands;
  for (isa::Operand& operand : issued.inst.operands) {
    if (operand.kind == isa::OperandKind::Reg) {
      operand = isa::Operand{isa::OperandKind::Imm, regs_[static_cast<size_t>(operand.value)], {}};
    } else if (operand.kind == isa::OperandKind::Addr && operand.addr.reg >= 0) {
      operand.addr.offset = wrap_add(operand.addr.offset, regs_[static_cast<size_t>(operand.addr.reg)]);
      operand.addr.reg = -1;
    }
  }
}

void FrontEnd::advance() {
  ++pc_;
  if (pc_ < static_cast<int64_t>(stream_.size())) return;
  if (depth_ > 0)
    fail("core {}: the loop whose body starts at instruction {} has no endloop", core_,
         loops_[static_cast<size_t>(depth_ - 1)].body);
  state_ = State::Done;
}

FrontEnd::Step FrontEnd::step(IssuedInstruction& issued) {
  TS_ASSERT(state_ == State::Running);
  const isa::Instruction& inst = stream_[static_cast<size_t>(pc_)];
  auto value = [&](int i) { return inst.operands[static_cast<size_t>(i)].value; };
  auto reg = [&](int i) -> int64_t& { return regs_[static_cast<size_t>(value(i))]; };
  Step step;
  step.index = pc_;
  switch (inst.op) {
    case isa::Opcode::Li: reg(0) = value(1); break;
    case isa::Opcode::Addi: reg(0) = wrap_add(reg(1), value(2)); break;
    case isa::Opcode::Add: reg(0) = wrap_add(reg(1), reg(2)); break;
    case isa::Opcode::Muli: reg(0) = wrap_mul(reg(1), value(2)); break;
    case isa::Opcode::Loop:
      if (depth_ == isa::kMaxLoopDepth)
        fail("{}: loops nest {} deep at most", instruction_place(core_, "front end", pc_, inst), isa::kMaxLoopDepth);
      loops_[static_cast<size_t>(depth_++)] = {pc_ + 1, value(0)};
      break;
    case isa::Opcode::EndLoop: {
      if (depth_ == 0) fail("{}: no loop is open", instruction_place(core_, "front end", pc_, inst));
      LoopFrame& loop = loops_[static_cast<size_t>(depth_ - 1)];
      if (--loop.remaining > 0) {
        pc_ = loop.body;
        return step;
      }
      --depth_;
      break;
    }
    case isa::Opcode::Barrier: state_ = State::AtBarrier; return step;
    default:
      step.issued = true;
      resolve(inst, issued);
      break;
  }
  advance();
  return step;
}

void FrontEnd::release_barrier() {
  TS_ASSERT(state_ == State::AtBarrier);
  state_ = State::Running;
  advance();
}

}  // namespace tessera::sim
