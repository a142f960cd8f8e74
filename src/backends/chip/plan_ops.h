// Builders of the ops of an elementwise plan (compiler/tile_program.h) for the chip kernels:
// `vbinary(dst, a, b, fn)` instead of filling an Op field by field.
#pragma once
#include "base/shape.h"
#include "compiler/tile_program.h"

namespace tessera::chip_ops {

using Plan = compiler::ElementwisePlan;
using Op = Plan::Op;
using OpKind = Op::Kind;

// The (rows, cols) a row-wise kernel works on: cols is the last dimension.
inline void rows_cols(const Shape& shape, int64_t& rows, int64_t& cols) {
  cols = shape.empty() ? 1 : shape.back();
  rows = cols == 0 ? 0 : numel(shape) / cols;
}

inline Op vunary(int dst, int a, isa::UnaryFn fn) {
  Op op;
  op.kind = OpKind::Unary, op.dst = dst, op.a = a, op.unary = fn;
  return op;
}
inline Op vbinary(int dst, int a, int b, isa::BinaryFn fn) {
  Op op;
  op.kind = OpKind::Binary, op.dst = dst, op.a = a, op.b = b, op.binary = fn;
  return op;
}
// dst (rows x 1) = fn over each row of a.
inline Op vreduce(int dst, int a, isa::ReduceFn fn) {
  Op op;
  op.kind = OpKind::Reduce, op.dst = dst, op.a = a, op.reduce = fn;
  return op;
}
inline Op vconvert(int dst, int a, DType to) {
  Op op;
  op.kind = OpKind::Convert, op.dst = dst, op.a = a, op.to = to;
  return op;
}
// The op on (rows x 1) values.
inline Op per_row(Op op) {
  op.per_row = true;
  return op;
}
// Binary with b a (rows x 1) value broadcast along each row.
inline Op col_b(Op op) {
  op.col_b = true;
  return op;
}

// Writes `slot` to HBM as `dtype`, after the ops; a narrower dtype is rounded on the chip, in
// place (vconvert reads its whole source before writing).
inline void add_output(Plan& p, int slot, int64_t hbm_addr, DType dtype) {
  if (dtype != DType::F32) p.ops.push_back(vconvert(slot, slot, dtype));
  p.outputs.push_back({slot, hbm_addr, dtype});
}

}  // namespace tessera::chip_ops
