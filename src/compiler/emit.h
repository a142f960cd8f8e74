// Instruction builders for the compiler's tile programs: operands (absolute addresses, or HBM
// addresses relative to a base register), DMA copies, semaphores, scalar loads and the Matrix and
// Vector instructions, a bump allocator for the scratchpad and the sequencing of phases.
// instructions.h adds the same builders on scratchpad addresses given as integers.
#pragma once
#include <algorithm>
#include <bit>
#include <cstdint>
#include <vector>

#include "base/dtype.h"
#include "base/error.h"
#include "isa/isa.h"

namespace tessera::compiler::emit {

using isa::Engine;
using isa::Instruction;
using isa::Opcode;
using isa::Operand;
using isa::OperandKind;

constexpr int64_t kAlign = 64;  // bytes; every scratchpad buffer starts on this boundary

inline int64_t align(int64_t bytes) { return (bytes + kAlign - 1) / kAlign * kAlign; }
inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

inline Operand imm(int64_t v) { return {OperandKind::Imm, v, {}}; }
inline Operand kind(OperandKind k, int64_t v) { return {k, v, {}}; }
inline Operand dtype(DType d) { return kind(OperandKind::DType, static_cast<int64_t>(d)); }
inline Operand at(isa::Space space, int64_t offset) {
  Operand o{OperandKind::Addr, 0, {}};
  o.addr.space = space;
  o.addr.offset = offset;
  return o;
}
inline Operand spm(int64_t offset) { return at(isa::Space::Spm, offset); }
inline Operand hbm(int64_t offset) { return at(isa::Space::Hbm, offset); }
// offset bytes past the HBM address in base register `reg`.
inline Operand hbm(int reg, int64_t offset) {
  Operand o = hbm(offset);
  o.addr.reg = static_cast<int8_t>(reg);
  return o;
}
inline Operand reg(int r) { return kind(OperandKind::Reg, r); }

inline Instruction li(int r, int64_t value) { return {Opcode::Li, {reg(r), imm(value)}, 0}; }

inline Instruction signal(Engine e, int sem) {
  return {Opcode::Signal, {kind(OperandKind::EngineName, static_cast<int64_t>(e)), imm(sem)}, 0};
}
inline Instruction wait(Engine e, int sem) {
  return {Opcode::Wait, {kind(OperandKind::EngineName, static_cast<int64_t>(e)), imm(sem)}, 0};
}
inline Instruction barrier() { return {Opcode::Barrier, {}, 0}; }

inline Instruction dma(Operand dst, Operand src, int64_t rows, int64_t row_bytes, int64_t dst_stride,
                       int64_t src_stride) {
  return {Opcode::DmaCopy, {dst, src, imm(rows), imm(row_bytes), imm(dst_stride), imm(src_stride)}, 0};
}
// A contiguous block of bytes.
inline Instruction dma_bytes(Operand dst, Operand src, int64_t bytes) { return dma(dst, src, 1, bytes, bytes, bytes); }

inline Instruction vfill(Operand dst, float value, int64_t rows, int64_t cols, DType d) {
  return {Opcode::VFill, {dst, kind(OperandKind::FImm, std::bit_cast<uint32_t>(value)), imm(rows), imm(cols), dtype(d)},
          0};
}
inline Instruction vconvert(Operand dst, DType to, Operand src, DType from, int64_t rows, int64_t cols) {
  return {Opcode::VConvert,
          {dst, dtype(to), src, dtype(from), imm(rows), imm(cols),
           kind(OperandKind::Rounding, static_cast<int64_t>(isa::Rounding::Rne)), reg(0)},
          0};
}
inline Instruction vunary(isa::UnaryFn fn, Operand dst, Operand src, int64_t rows, int64_t cols) {
  return {Opcode::VUnary,
          {kind(OperandKind::UnaryFn, static_cast<int64_t>(fn)), dst, src, imm(rows), imm(cols), dtype(DType::F32)}, 0};
}
inline Instruction vbinary(isa::BinaryFn fn, Operand dst, Operand a, Operand b, int64_t rows, int64_t cols,
                           isa::Broadcast bcast = isa::Broadcast::None) {
  return {Opcode::VBinary,
          {kind(OperandKind::BinaryFn, static_cast<int64_t>(fn)), dst, a, b, imm(rows), imm(cols), dtype(DType::F32),
           kind(OperandKind::Broadcast, static_cast<int64_t>(bcast))},
          0};
}
// dst (rows x 1, f32) = fn over each row of src (rows x cols, in `d`).
inline Instruction vreduce(isa::ReduceFn fn, Operand dst, Operand src, int64_t rows, int64_t cols,
                           DType d = DType::F32) {
  return {Opcode::VReduce,
          {kind(OperandKind::ReduceFn, static_cast<int64_t>(fn)), dst, src, imm(rows), imm(cols), dtype(d)}, 0};
}
inline Instruction vtranspose(Operand dst, Operand src, int64_t rows, int64_t cols, DType d) {
  return {Opcode::VTranspose, {dst, src, imm(rows), imm(cols), dtype(d)}, 0};
}
inline Instruction vgather(Operand dst, Operand table, Operand indices, int64_t rows, int64_t cols, int64_t entries,
                           DType d) {
  return {Opcode::VGather, {dst, table, indices, imm(rows), imm(cols), imm(entries), dtype(d)}, 0};
}
inline Instruction vscatter_add(Operand table, Operand indices, Operand src, int64_t rows, int64_t cols,
                                int64_t entries, DType d) {
  return {Opcode::VScatterAdd, {table, indices, src, imm(rows), imm(cols), imm(entries), dtype(d)}, 0};
}
// dst (rows x cols, f32) = uniform draws at (seed, counter + element), from registers seed_reg, counter_reg.
inline Instruction vrandom(Operand dst, int seed_reg, int counter_reg, int64_t rows, int64_t cols) {
  return {Opcode::VRandom, {dst, reg(seed_reg), reg(counter_reg), imm(rows), imm(cols), dtype(DType::F32)}, 0};
}
// acc (m x n, f32) = or += a (m x k) @ b (k x n), inputs in `d` (bf16 unless said).
inline Instruction mma(Operand acc, Operand a, Operand b, int64_t m, int64_t n, int64_t k, bool accumulate,
                       DType d = DType::BF16) {
  return {Opcode::Mma,
          {acc, a, b, imm(m), imm(n), imm(k), dtype(d),
           kind(OperandKind::AccMode,
                static_cast<int64_t>(accumulate ? isa::AccMode::Accumulate : isa::AccMode::Overwrite))},
          0};
}

// Scratchpad buffers placed one after another, each aligned.
struct Arena {
  int64_t next = 0;
  int64_t take(int64_t bytes) {
    int64_t addr = next;
    next += align(bytes);
    return addr;
  }
};

// Programs run one after another in one launch: every core runs its stream of each phase, then
// waits at a barrier for all cores before the next phase. Phases must leave no semaphore
// signalled that a later phase waits on.
inline isa::Program sequence(const std::vector<isa::Program>& phases) {
  size_t cores = 0;
  for (const auto& p : phases) cores = std::max(cores, p.cores.size());
  isa::Program program;
  program.cores.resize(cores);
  for (size_t i = 0; i < phases.size(); ++i)
    for (size_t c = 0; c < cores; ++c) {
      if (i > 0) program.cores[c].push_back(barrier());
      if (c < phases[i].cores.size())
        program.cores[c].insert(program.cores[c].end(), phases[i].cores[c].begin(), phases[i].cores[c].end());
    }
  return program;
}

}  // namespace tessera::compiler::emit
