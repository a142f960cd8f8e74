// Operand kinds as text: the names of enum-valued operands, what each kind is called in
// messages, and the range each operand must lie in. The assembler, disassembler, decoder and
// docs/isa.md read these, so the text and binary forms accept exactly the same operands.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "isa/isa.h"

namespace tessera::isa {

struct EnumName {
  std::string_view name;
  int64_t value;
};

// The names an enum-valued kind accepts (DType, EngineName, UnaryFn, BinaryFn, ReduceFn,
// Broadcast, Rounding, AccMode), in value order; empty for Reg, Imm, Addr and FImm.
std::span<const EnumName> enum_names(OperandKind kind);

// The name of `value` for an enum-valued kind ("bf16" for DType 1); the value must be valid.
std::string_view enum_name(OperandKind kind, int64_t value);

// "f32, bf16, f16, ..." for messages and docs.
std::string enum_name_list(OperandKind kind);

// What a kind is called in messages and docs: "register", "integer", "address", "dtype", ...
std::string_view operand_kind_name(OperandKind kind);

// "" when `operand` is a well-formed operand of `kind`, else what is wrong, e.g.
// "register 16 is out of range r0..r15".
std::string operand_problem(const Operand& operand, OperandKind kind);

}  // namespace tessera::isa
