// Helpers for ISA tests: error-text capture, program comparison, and random valid programs.
#pragma once
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "base/error.h"
#include "common/error_text.h"
#include "isa/disassembler.h"
#include "isa/isa.h"
#include "isa/operands.h"

namespace tessera::isa::testing {

using tessera::testing::error_text;

// Equal cores and instructions, source lines ignored; the first difference is described.
inline ::testing::AssertionResult same_program(const Program& a, const Program& b) {
  if (a.cores.size() != b.cores.size()) {
    return ::testing::AssertionFailure() << a.cores.size() << " cores vs " << b.cores.size();
  }
  for (size_t c = 0; c < a.cores.size(); ++c) {
    if (a.cores[c].size() != b.cores[c].size()) {
      return ::testing::AssertionFailure() << "core " << c << ": " << a.cores[c].size() << " vs " << b.cores[c].size()
                                           << " instructions";
    }
    for (size_t i = 0; i < a.cores[c].size(); ++i) {
      const Instruction& x = a.cores[c][i];
      const Instruction& y = b.cores[c][i];
      if (x.op != y.op || x.operands != y.operands) {
        return ::testing::AssertionFailure() << "core " << c << ", instruction " << i << ": '" << format_instruction(x)
                                             << "' vs '" << format_instruction(y) << "'";
      }
    }
  }
  return ::testing::AssertionSuccess();
}

// A random well-formed operand of `kind`, with extreme values now and then.
inline Operand random_operand(OperandKind kind, std::mt19937_64& rng) {
  auto pick = [&](uint64_t n) { return static_cast<int64_t>(rng() % n); };
  auto number = [&]() -> int64_t {
    switch (pick(5)) {
      case 0: return pick(1000) - 500;
      case 1: return std::numeric_limits<int64_t>::min();
      case 2: return std::numeric_limits<int64_t>::max();
      case 3: return static_cast<int64_t>(rng());
      default: return pick(1 << 20) * 64;
    }
  };
  Operand operand;
  operand.kind = kind;
  switch (kind) {
    case OperandKind::Reg: operand.value = pick(kRegisters); break;
    case OperandKind::Imm: operand.value = number(); break;
    case OperandKind::FImm: {
      static const uint32_t special[] = {0x00000000u, 0x80000000u, 0x7f800000u, 0xff800000u, 0x7fc00000u,
                                         0xffc00000u, 0x7f800001u, 0x00000001u, 0x7f7fffffu, 0x3f000000u};
      operand.value = pick(3) == 0 ? special[pick(10)] : static_cast<uint32_t>(rng());
      break;
    }
    case OperandKind::Addr:
      operand.addr.space = static_cast<Space>(pick(3));
      if (operand.addr.space == Space::Spm && pick(3) == 0) operand.addr.core = static_cast<int16_t>(pick(kMaxCores));
      operand.addr.reg = static_cast<int8_t>(pick(kRegisters + 1) - 1);
      operand.addr.offset = number();
      break;
    default: {
      auto names = enum_names(kind);
      operand.value = names[pick(names.size())].value;
    }
  }
  return operand;
}

inline Instruction random_instruction(Opcode op, std::mt19937_64& rng) {
  Instruction inst;
  inst.op = op;
  for (const OperandSpec& spec : opcode_info(op).operands) inst.operands.push_back(random_operand(spec.kind, rng));
  return inst;
}

// A program of `cores` streams of random instructions (not necessarily meaningful ones).
inline Program random_program(std::mt19937_64& rng, int cores, int max_instructions) {
  Program program;
  program.cores.resize(cores);
  for (auto& stream : program.cores) {
    int n = static_cast<int>(rng() % (max_instructions + 1));
    for (int i = 0; i < n; ++i) {
      stream.push_back(random_instruction(static_cast<Opcode>(rng() % static_cast<uint64_t>(Opcode::Count)), rng));
    }
  }
  return program;
}

}  // namespace tessera::isa::testing
