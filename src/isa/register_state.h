// What the verifier knows about the address registers: each register as an affine function of
// the sixteen registers' values at program start, modulo 2^64 (registers wrap). li, addi, add
// and muli keep values affine, so a loop body's effect is itself such a state and n iterations
// are its n-th power: the state at any iteration is exact without running the ones before it.
#pragma once
#include <array>
#include <cstdint>

#include "isa/isa.h"

namespace tessera::isa {

class RegisterState {
 public:
  // Every register holds its own unknown start value.
  static RegisterState start();

  // Whether register `reg` has a value independent of the start values, and that value.
  bool known(int reg) const;
  int64_t value(int reg) const;

  // Applies li, addi, add or muli; every other instruction leaves the registers as they are.
  void execute(const Instruction& inst);

  // The state reached by running, from this state, code whose effect from start() is `effect`.
  RegisterState then(const RegisterState& effect) const;

  // This state taken as an effect, applied `times` times from start().
  RegisterState power(uint64_t times) const;

 private:
  // Coefficients of the start values of r0..r15, then the constant term.
  using Affine = std::array<uint64_t, kRegisters + 1>;
  std::array<Affine, kRegisters> regs_{};
};

}  // namespace tessera::isa
