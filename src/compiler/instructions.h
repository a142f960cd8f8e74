// Small builders of ISA instructions for the compiler's program generators, beside emit.h's
// (immediates, addresses, semaphores, 2-D DMA copies): 3-D DMA copies and Vector instructions
// on tiles at scratchpad addresses given as integers.
#pragma once
#include <bit>
#include <cstdint>

#include "base/dtype.h"
#include "compiler/emit.h"
#include "isa/isa.h"

namespace tessera::compiler::emit {

inline isa::Operand dtype_operand(DType d) { return kind(isa::OperandKind::DType, static_cast<int64_t>(d)); }

// depth planes of rows x row_bytes bytes, strides in bytes.
inline isa::Instruction dma3d(isa::Operand dst, isa::Operand src, int64_t depth, int64_t rows, int64_t row_bytes,
                              int64_t dst_stride, int64_t src_stride, int64_t dst_plane, int64_t src_plane) {
  return {isa::Opcode::DmaCopy3d,
          {dst, src, imm(depth), imm(rows), imm(row_bytes), imm(dst_stride), imm(src_stride), imm(dst_plane),
           imm(src_plane)},
          0};
}

// dst = a fn b on (rows x cols) f32 tiles at scratchpad addresses; b as `bcast` says.
inline isa::Instruction vbinary(isa::BinaryFn fn, int64_t dst, int64_t a, int64_t b, int64_t rows, int64_t cols,
                                isa::Broadcast bcast = isa::Broadcast::None) {
  return {isa::Opcode::VBinary,
          {kind(isa::OperandKind::BinaryFn, static_cast<int64_t>(fn)), spm(dst), spm(a), spm(b), imm(rows), imm(cols),
           dtype_operand(DType::F32), kind(isa::OperandKind::Broadcast, static_cast<int64_t>(bcast))},
          0};
}
inline isa::Instruction vfill(int64_t dst, float value, int64_t rows, int64_t cols, DType d = DType::F32) {
  return {isa::Opcode::VFill,
          {spm(dst), kind(isa::OperandKind::FImm, std::bit_cast<uint32_t>(value)), imm(rows), imm(cols),
           dtype_operand(d)},
          0};
}
// Round-to-nearest-even conversion of a (rows x cols) tile.
inline isa::Instruction vconvert(int64_t dst, DType to, int64_t src, DType from, int64_t rows, int64_t cols) {
  return {isa::Opcode::VConvert,
          {spm(dst), dtype_operand(to), spm(src), dtype_operand(from), imm(rows), imm(cols),
           kind(isa::OperandKind::Rounding, static_cast<int64_t>(isa::Rounding::Rne)), kind(isa::OperandKind::Reg, 0)},
          0};
}

}  // namespace tessera::compiler::emit
