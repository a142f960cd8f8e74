// Helpers for the simulator tests: instruction builders, a small T1 chip, and typed access
// to simulated memories.
#pragma once
#include <gtest/gtest.h>

#include <bit>
#include <cstring>
#include <string>
#include <vector>

#include "arch/chip_loader.h"
#include "base/dtype.h"
#include "base/error.h"
#include "isa/isa.h"
#include "sim/simulator.h"

namespace tessera::sim::testing {

using isa::Instruction;
using isa::Opcode;
using isa::Operand;
using isa::OperandKind;
using isa::Space;

inline Operand reg(int r) { return {OperandKind::Reg, r, {}}; }
inline Operand imm(int64_t v) { return {OperandKind::Imm, v, {}}; }
inline Operand at(Space space, int64_t offset, int base_reg = -1, int core = -1) {
  Operand o{OperandKind::Addr, 0, {}};
  o.addr = {space, static_cast<int16_t>(core), static_cast<int8_t>(base_reg), offset};
  return o;
}
inline Operand spm(int64_t offset, int base_reg = -1) { return at(Space::Spm, offset, base_reg); }
inline Operand hbm(int64_t offset, int base_reg = -1) { return at(Space::Hbm, offset, base_reg); }
inline Operand l2(int64_t offset, int base_reg = -1) { return at(Space::L2, offset, base_reg); }
inline Operand dt(DType d) { return {OperandKind::DType, static_cast<int64_t>(d), {}}; }
inline Operand eng(isa::Engine e) { return {OperandKind::EngineName, static_cast<int64_t>(e), {}}; }
inline Operand fimm(float v) { return {OperandKind::FImm, static_cast<int64_t>(std::bit_cast<uint32_t>(v)), {}}; }
template <typename E>
Operand en(OperandKind kind, E value) {
  return {kind, static_cast<int64_t>(value), {}};
}

inline Instruction ins(Opcode op, std::vector<Operand> operands = {}) { return {op, std::move(operands), 0}; }

// Common instructions.
inline Instruction li(int r, int64_t v) { return ins(Opcode::Li, {reg(r), imm(v)}); }
inline Instruction addi(int rd, int rs, int64_t v) { return ins(Opcode::Addi, {reg(rd), reg(rs), imm(v)}); }
inline Instruction loop(int64_t n) { return ins(Opcode::Loop, {imm(n)}); }
inline Instruction endloop() { return ins(Opcode::EndLoop); }
inline Instruction signal(isa::Engine e, int sem) { return ins(Opcode::Signal, {eng(e), imm(sem)}); }
inline Instruction wait(isa::Engine e, int sem) { return ins(Opcode::Wait, {eng(e), imm(sem)}); }
inline Instruction barrier() { return ins(Opcode::Barrier); }
inline Instruction dma(Operand dst, Operand src, int64_t rows, int64_t row_bytes, int64_t dst_stride,
                       int64_t src_stride) {
  return ins(Opcode::DmaCopy, {dst, src, imm(rows), imm(row_bytes), imm(dst_stride), imm(src_stride)});
}
inline Instruction mma(Operand acc, Operand a, Operand b, int64_t m, int64_t n, int64_t k, DType dtype,
                       isa::AccMode mode) {
  return ins(Opcode::Mma, {acc, a, b, imm(m), imm(n), imm(k), dt(dtype), en(OperandKind::AccMode, mode)});
}
inline Instruction vunary(isa::UnaryFn fn, Operand dst, Operand src, int64_t rows, int64_t cols, DType dtype) {
  return ins(Opcode::VUnary, {en(OperandKind::UnaryFn, fn), dst, src, imm(rows), imm(cols), dt(dtype)});
}
inline Instruction vfill(Operand dst, float value, int64_t rows, int64_t cols, DType dtype) {
  return ins(Opcode::VFill, {dst, fimm(value), imm(rows), imm(cols), dt(dtype)});
}

// T1 with `cores` cores and smaller memories (the HBM stays at 96 GB: it is allocated lazily).
inline arch::ChipSpec small_t1(int cores = 2) {
  std::vector<std::string> overrides = {fmt::format("cores={}", cores), "scratchpad.size=256KiB", "l2.size=4MiB"};
  return arch::load_chip("t1", overrides);
}

// Typed reads and writes of simulated memory.
template <typename T>
std::vector<T> read(Memory& memory, int64_t addr, size_t count) {
  std::vector<T> out(count);
  memory.read(addr, out.data(), static_cast<int64_t>(count * sizeof(T)));
  return out;
}
template <typename T>
void write(Memory& memory, int64_t addr, const std::vector<T>& values) {
  memory.write(addr, values.data(), static_cast<int64_t>(values.size() * sizeof(T)));
}

// The message of the Error `fn` throws ("" when it throws none).
template <typename Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace tessera::sim::testing
