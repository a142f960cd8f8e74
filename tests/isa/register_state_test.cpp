// Affine register tracking against plain execution: random li/addi/add/muli bodies repeated n
// times by power() give the values a loop that runs them n times computes.
#include <gtest/gtest.h>

#include <array>

#include "isa/register_state.h"
#include "isa_test_util.h"

namespace tessera::isa {
namespace {

// The reference: registers as plain wrapping 64-bit integers.
void run(const std::vector<Instruction>& body, std::array<uint64_t, kRegisters>& r) {
  for (const Instruction& inst : body) {
    auto o = [&](size_t i) { return inst.operands[i].value; };
    switch (inst.op) {
      case Opcode::Li: r[o(0)] = static_cast<uint64_t>(o(1)); break;
      case Opcode::Addi: r[o(0)] = r[o(1)] + static_cast<uint64_t>(o(2)); break;
      case Opcode::Add: r[o(0)] = r[o(1)] + r[o(2)]; break;
      case Opcode::Muli: r[o(0)] = r[o(1)] * static_cast<uint64_t>(o(2)); break;
      default: break;
    }
  }
}

TEST(RegisterState, PowersMatchRepeatedExecution) {
  std::mt19937_64 rng(5);
  const Opcode scalar[] = {Opcode::Li, Opcode::Addi, Opcode::Add, Opcode::Muli};
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<Instruction> setup, body;
    for (int r = 0; r < kRegisters; ++r) {  // every register known
      Instruction li = testing::random_instruction(Opcode::Li, rng);
      li.operands[0].value = r;
      setup.push_back(li);
    }
    for (int i = 0; i < 1 + static_cast<int>(rng() % 6); ++i) body.push_back(testing::random_instruction(scalar[rng() % 4], rng));
    uint64_t times = rng() % 40;
    std::array<uint64_t, kRegisters> expected{};
    run(setup, expected);
    for (uint64_t n = 0; n < times; ++n) run(body, expected);

    RegisterState state = RegisterState::start(), effect = RegisterState::start();
    for (const Instruction& inst : setup) state.execute(inst);
    for (const Instruction& inst : body) effect.execute(inst);
    RegisterState after = state.then(effect.power(times));
    for (int r = 0; r < kRegisters; ++r) {
      ASSERT_TRUE(after.known(r));
      EXPECT_EQ(static_cast<uint64_t>(after.value(r)), expected[r]) << "register " << r << ", trial " << trial;
    }
  }
}

TEST(RegisterState, UnwrittenRegistersStayUnknown) {
  RegisterState state = RegisterState::start();
  Instruction add;
  add.op = Opcode::Add;
  add.operands = {Operand{OperandKind::Reg, 1, {}}, Operand{OperandKind::Reg, 2, {}}, Operand{OperandKind::Reg, 3, {}}};
  state.execute(add);
  EXPECT_FALSE(state.known(1));
  Instruction muli = add;
  muli.op = Opcode::Muli;
  muli.operands = {Operand{OperandKind::Reg, 1, {}}, Operand{OperandKind::Reg, 1, {}}, Operand{OperandKind::Imm, 0, {}}};
  state.execute(muli);  // r1 * 0 no longer depends on anything
  EXPECT_TRUE(state.known(1));
  EXPECT_EQ(state.value(1), 0);
  EXPECT_FALSE(state.known(2));
}

}  // namespace
}  // namespace tessera::isa
