// The binary form of a program, encoded and decoded generically from the instruction table.
//
// Layout, all integers little-endian:
//   header:      magic u32 (kProgramMagic), version u32 (kProgramVersion), core count u32
//   per core:    instruction count u32, then the instructions
//   instruction: opcode u8, then its operands in table order, each as its OperandKind says:
//                Reg and every enum kind: u8; Imm: i64; FImm: u32 (the f32 bits);
//                Addr: space u8, core i16 (-1 = own), base register i8 (-1 = none), offset i64.
#pragma once
#include <string>
#include <string_view>

#include "isa/isa.h"

namespace tessera::isa {

// The bytes of `program`. An operand that does not fit its table entry is an Error naming the
// core, the instruction and the operand.
std::string encode_program(const Program& program);

// The program in `bytes`, read from `source` (a file name for messages). Anything but a whole,
// well-formed program (bad magic, unsupported version, truncation, unknown opcode, an operand
// out of range, trailing bytes) is an Error "<source>: byte <offset>: <what is wrong>".
Program decode_program(std::string_view bytes, const std::string& source);

}  // namespace tessera::isa
