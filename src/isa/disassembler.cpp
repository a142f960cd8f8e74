// The disassembler: table-driven text for every operand kind (see disassembler.h).
#include "isa/disassembler.h"

#include <fmt/format.h>

#include <bit>
#include <cmath>

#include "base/error.h"
#include "isa/operands.h"

namespace tessera::isa {

namespace {

// A signed number in hex: "0x40", "-0x40" (the most negative int64 included).
std::string signed_hex(int64_t value) {
  uint64_t magnitude = value < 0 ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
  return fmt::format("{}{:#x}", value < 0 ? "-" : "", magnitude);
}

std::string format_address(const Address& a) {
  std::string text = space_name(a.space);
  if (a.core >= 0) text += fmt::format("@{}", a.core);
  if (a.reg < 0) return fmt::format("{}[{}]", text, signed_hex(a.offset));
  std::string sign = a.offset > 0 ? "+" : "";
  std::string offset = a.offset == 0 ? "" : signed_hex(a.offset);
  return fmt::format("{}[r{}{}{}]", text, a.reg, sign, offset);
}

// The shortest text that reads back to the same f32 bits; NaNs other than the default quiet
// NaN keep their bits as nan(0x...).
std::string format_f32(uint32_t bits) {
  float value = std::bit_cast<float>(bits);
  if (std::isnan(value)) return bits == 0x7fc00000u ? "nan" : fmt::format("nan({:#010x})", bits);
  return fmt::format("{}", value);
}

}  // namespace

std::string format_operand(const Operand& operand) {
  switch (operand.kind) {
    case OperandKind::Reg: return fmt::format("r{}", operand.value);
    case OperandKind::Imm: return fmt::format("{}", operand.value);
    case OperandKind::Addr: return format_address(operand.addr);
    case OperandKind::FImm: return format_f32(static_cast<uint32_t>(operand.value));
    default: return std::string(enum_name(operand.kind, operand.value));
  }
}

std::string format_instruction(const Instruction& inst) {
  std::string text = opcode_info(inst.op).mnemonic;
  for (size_t i = 0; i < inst.operands.size(); ++i) {
    text += i == 0 ? " " : ", ";
    text += format_operand(inst.operands[i]);
  }
  return text;
}

std::string disassemble(const Program& program, bool operand_names) {
  std::string text;
  for (size_t core = 0; core < program.cores.size(); ++core) {
    text += fmt::format("{}.core {}\n", core == 0 ? "" : "\n", core);
    int depth = 0;
    for (const Instruction& inst : program.cores[core]) {
      if (inst.op == Opcode::EndLoop && depth > 0) --depth;
      std::string line = fmt::format("{:{}}{}", "", 2 * (depth + 1), format_instruction(inst));
      const OpcodeInfo& info = opcode_info(inst.op);
      if (operand_names && !info.operands.empty()) {
        std::string names;
        for (const OperandSpec& spec : info.operands) names += fmt::format("{}{}", names.empty() ? "" : ", ", spec.name);
        line += fmt::format("  ; {}", names);
      }
      text += line;
      text += '\n';
      if (inst.op == Opcode::Loop) ++depth;
    }
  }
  return text;
}

}  // namespace tessera::isa
