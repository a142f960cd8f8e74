// Operand names and ranges (see operands.h), and the checked accessors of Operands (isa.h).
#include "isa/operands.h"

#include <fmt/format.h>

#include <vector>

#include "base/dtype.h"
#include "base/error.h"

namespace tessera::isa {

namespace {

std::vector<EnumName> dtype_names() {
  std::vector<EnumName> names;
  for (DType dtype : kAllDTypes) names.push_back({dtype_name(dtype), static_cast<int64_t>(dtype)});
  return names;
}

template <typename E>
EnumName named(std::string_view name, E value) {
  return {name, static_cast<int64_t>(value)};
}

}  // namespace

std::span<const EnumName> enum_names(OperandKind kind) {
  static const std::vector<EnumName> dtypes = dtype_names();
  static const std::vector<EnumName> engines = {
      named("dma", Engine::Dma), named("matrix", Engine::Matrix), named("vector", Engine::Vector)};
  static const std::vector<EnumName> unary = {
      named("relu", UnaryFn::Relu), named("gelu", UnaryFn::Gelu), named("exp", UnaryFn::Exp),
      named("log", UnaryFn::Log),   named("neg", UnaryFn::Neg),   named("sqrt", UnaryFn::Sqrt),
      named("recip", UnaryFn::Recip), named("copy", UnaryFn::Copy)};
  static const std::vector<EnumName> binary = {
      named("add", BinaryFn::Add), named("sub", BinaryFn::Sub), named("mul", BinaryFn::Mul),
      named("div", BinaryFn::Div), named("max", BinaryFn::Max), named("min", BinaryFn::Min)};
  static const std::vector<EnumName> reduce = {named("sum", ReduceFn::Sum), named("max", ReduceFn::Max)};
  static const std::vector<EnumName> broadcast = {named("none", Broadcast::None), named("row", Broadcast::Row),
                                                  named("col", Broadcast::Col), named("scalar", Broadcast::Scalar)};
  static const std::vector<EnumName> rounding = {named("rne", Rounding::Rne), named("stochastic", Rounding::Stochastic)};
  static const std::vector<EnumName> acc = {named("overwrite", AccMode::Overwrite),
                                            named("accumulate", AccMode::Accumulate)};
  switch (kind) {
    case OperandKind::DType: return dtypes;
    case OperandKind::EngineName: return engines;
    case OperandKind::UnaryFn: return unary;
    case OperandKind::BinaryFn: return binary;
    case OperandKind::ReduceFn: return reduce;
    case OperandKind::Broadcast: return broadcast;
    case OperandKind::Rounding: return rounding;
    case OperandKind::AccMode: return acc;
    case OperandKind::Reg:
    case OperandKind::Imm:
    case OperandKind::Addr:
    case OperandKind::FImm: return {};
  }
  return {};
}

std::string_view enum_name(OperandKind kind, int64_t value) {
  for (const EnumName& entry : enum_names(kind)) {
    if (entry.value == value) return entry.name;
  }
  TS_ASSERT(!"enum operand value without a name");
  return "";
}

std::string enum_name_list(OperandKind kind) {
  std::string list;
  for (const EnumName& entry : enum_names(kind)) list += fmt::format("{}{}", list.empty() ? "" : ", ", entry.name);
  return list;
}

std::string_view operand_kind_name(OperandKind kind) {
  switch (kind) {
    case OperandKind::Reg: return "register";
    case OperandKind::Imm: return "integer";
    case OperandKind::Addr: return "address";
    case OperandKind::DType: return "dtype";
    case OperandKind::EngineName: return "engine";
    case OperandKind::UnaryFn: return "unary function";
    case OperandKind::BinaryFn: return "binary function";
    case OperandKind::ReduceFn: return "reduction";
    case OperandKind::Broadcast: return "broadcast";
    case OperandKind::Rounding: return "rounding";
    case OperandKind::AccMode: return "accumulation mode";
    case OperandKind::FImm: return "f32 value";
  }
  return "operand";
}

std::string operand_problem(const Operand& operand, OperandKind kind) {
  if (operand.kind != kind) {
    return fmt::format("expected a {} operand, found a {}", operand_kind_name(kind), operand_kind_name(operand.kind));
  }
  if (kind != OperandKind::Addr && operand.addr != Address{}) return "a non-address operand carries an address";
  switch (kind) {
    case OperandKind::Reg:
      if (operand.value < 0 || operand.value >= kRegisters) {
        return fmt::format("register {} is out of range r0..r{}", operand.value, kRegisters - 1);
      }
      return "";
    case OperandKind::Imm: return "";
    case OperandKind::FImm:
      if (operand.value < 0 || operand.value > 0xffffffffLL) {
        return fmt::format("f32 bit pattern {:#x} is wider than 32 bits", operand.value);
      }
      return "";
    case OperandKind::Addr: {
      const Address& a = operand.addr;
      if (operand.value != 0) return "an address operand carries a value";
      if (static_cast<uint8_t>(a.space) > static_cast<uint8_t>(Space::Spm)) {
        return fmt::format("memory space {} is not hbm (0), l2 (1) or spm (2)", static_cast<int>(a.space));
      }
      if (a.reg < -1 || a.reg >= kRegisters) {
        return fmt::format("base register {} is out of range r0..r{}", a.reg, kRegisters - 1);
      }
      if (a.core != -1 && a.space != Space::Spm) {
        return fmt::format("{}@{}: only spm names another core", space_name(a.space), a.core);
      }
      if (a.core < -1) return fmt::format("spm@{}: the core is negative", a.core);
      return "";
    }
    default:
      for (const EnumName& entry : enum_names(kind)) {
        if (entry.value == operand.value) return "";
      }
      return fmt::format("{} value {} is not one of {}", operand_kind_name(kind), operand.value, enum_name_list(kind));
  }
}


Operand& Operands::at(size_t i) {
  if (i >= size_) fail("operand {} of an instruction with {} operands", i + 1, size_);
  return items_[i];
}

const Operand& Operands::at(size_t i) const {
  if (i >= size_) fail("operand {} of an instruction with {} operands", i + 1, size_);
  return items_[i];
}

void Operands::too_many() { fail("an instruction holds at most {} operands", kCapacity); }

}  // namespace tessera::isa
