// Affine register values (see register_state.h).
#include "isa/register_state.h"

#include "base/error.h"

namespace tessera::isa {

RegisterState RegisterState::start() {
  RegisterState state;
  for (int r = 0; r < kRegisters; ++r) state.regs_[r][r] = 1;
  return state;
}

bool RegisterState::known(int reg) const {
  for (int j = 0; j < kRegisters; ++j) {
    if (regs_[reg][j] != 0) return false;
  }
  return true;
}

int64_t RegisterState::value(int reg) const {
  TS_ASSERT(known(reg));
  return static_cast<int64_t>(regs_[reg][kRegisters]);
}

void RegisterState::execute(const Instruction& inst) {
  auto reg = [&](size_t i) { return static_cast<size_t>(inst.operands[i].value); };
  auto imm = [&](size_t i) { return static_cast<uint64_t>(inst.operands[i].value); };
  switch (inst.op) {
    case Opcode::Li:
      regs_[reg(0)] = Affine{};
      regs_[reg(0)][kRegisters] = imm(1);
      break;
    case Opcode::Addi:
      regs_[reg(0)] = regs_[reg(1)];
      regs_[reg(0)][kRegisters] += imm(2);
      break;
    case Opcode::Add: {
      Affine sum = regs_[reg(1)];
      for (int j = 0; j <= kRegisters; ++j) sum[j] += regs_[reg(2)][j];
      regs_[reg(0)] = sum;
      break;
    }
    case Opcode::Muli: {
      Affine product = regs_[reg(1)];
      for (uint64_t& x : product) x *= imm(2);
      regs_[reg(0)] = product;
      break;
    }
    default: break;
  }
}

RegisterState RegisterState::then(const RegisterState& effect) const {
  RegisterState out;
  for (int r = 0; r < kRegisters; ++r) {
    Affine& result = out.regs_[r];
    result[kRegisters] = effect.regs_[r][kRegisters];
    for (int j = 0; j < kRegisters; ++j) {
      uint64_t coefficient = effect.regs_[r][j];
      if (coefficient == 0) continue;
      for (int k = 0; k <= kRegisters; ++k) result[k] += coefficient * regs_[j][k];
    }
  }
  return out;
}

RegisterState RegisterState::power(uint64_t times) const {
  RegisterState result = start(), base = *this;
  while (times != 0) {
    if (times & 1) result = result.then(base);
    base = base.then(base);
    times >>= 1;
  }
  return result;
}

}  // namespace tessera::isa
