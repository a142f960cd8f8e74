// emit.h's builders on scratchpad addresses given as integers (each forwards to the one that
// takes operands), contiguous loads and stores between HBM and the scratchpad, and 3-D DMA
// copies.
#pragma once
#include <cstdint>

#include "base/dtype.h"
#include "compiler/emit.h"
#include "isa/isa.h"

namespace tessera::compiler::emit {

// Contiguous bytes HBM -> scratchpad and scratchpad -> HBM.
inline Instruction load(int64_t spm_addr, int64_t hbm_addr, int64_t bytes) {
  return dma_bytes(spm(spm_addr), hbm(hbm_addr), bytes);
}
inline Instruction store(int64_t hbm_addr, int64_t spm_addr, int64_t bytes) {
  return dma_bytes(hbm(hbm_addr), spm(spm_addr), bytes);
}

// depth planes of rows x row_bytes bytes, strides in bytes.
inline Instruction dma3d(Operand dst, Operand src, int64_t depth, int64_t rows, int64_t row_bytes, int64_t dst_stride,
                         int64_t src_stride, int64_t dst_plane, int64_t src_plane) {
  return {Opcode::DmaCopy3d,
          {dst, src, imm(depth), imm(rows), imm(row_bytes), imm(dst_stride), imm(src_stride), imm(dst_plane),
           imm(src_plane)},
          0};
}

// Vector and Matrix instructions on (rows x cols) tiles at scratchpad addresses: f32 unless a
// dtype is given.
inline Instruction vunary(isa::UnaryFn fn, int64_t dst, int64_t src, int64_t rows, int64_t cols) {
  return vunary(fn, spm(dst), spm(src), rows, cols);
}
inline Instruction vbinary(isa::BinaryFn fn, int64_t dst, int64_t a, int64_t b, int64_t rows, int64_t cols,
                           isa::Broadcast bcast = isa::Broadcast::None) {
  return vbinary(fn, spm(dst), spm(a), spm(b), rows, cols, bcast);
}
inline Instruction vreduce(isa::ReduceFn fn, int64_t dst, int64_t src, int64_t rows, int64_t cols) {
  return vreduce(fn, spm(dst), spm(src), rows, cols);
}
inline Instruction vfill(int64_t dst, float value, int64_t rows, int64_t cols, DType d = DType::F32) {
  return vfill(spm(dst), value, rows, cols, d);
}
// Round-to-nearest-even conversion of a (rows x cols) tile.
inline Instruction vconvert(int64_t dst, DType to, int64_t src, DType from, int64_t rows, int64_t cols) {
  return vconvert(spm(dst), to, spm(src), from, rows, cols);
}
inline Instruction vtranspose(int64_t dst, int64_t src, int64_t rows, int64_t cols, DType d) {
  return vtranspose(spm(dst), spm(src), rows, cols, d);
}
// acc (m x n, f32) = or += a (m x k) @ b (k x n), inputs in `d`.
inline Instruction mma(int64_t acc, int64_t a, int64_t b, int64_t m, int64_t n, int64_t k, bool accumulate,
                       DType d = DType::BF16) {
  return mma(spm(acc), spm(a), spm(b), m, n, k, accumulate, d);
}

}  // namespace tessera::compiler::emit
