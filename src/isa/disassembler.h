// Programs as canonical assembly text: what `tessera disasm` prints, and what the assembler
// reads back to the same program (docs/isa.md describes the syntax).
#pragma once
#include <string>

#include "isa/isa.h"

namespace tessera::isa {

// One operand as the assembler reads it: "r3", "-8", "spm@2[r1+0x40]", "bf16", "0.5".
std::string format_operand(const Operand& operand);

// "mnemonic op1, op2, ..." with no indentation or comment.
std::string format_instruction(const Instruction& inst);

// Every core as ".core N" followed by its instructions, indented two spaces per open loop.
// With `operand_names`, each instruction with operands ends in a comment naming them.
std::string disassemble(const Program& program, bool operand_names = false);

}  // namespace tessera::isa
