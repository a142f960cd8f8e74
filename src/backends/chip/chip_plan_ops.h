// Building blocks of the chip backend's elementwise plans (compiler/tile_program.h): plans over
// a shape, op constructors (`binary_op(dst, a, b, fn)` instead of filling an Op field by field),
// outputs and the GELU-gradient and AdamW sequences, shared by the kernels in chip_kernels*.cpp.
#pragma once
#include <cmath>

#include "backends/backend.h"
#include "base/shape.h"
#include "compiler/tile_program.h"

namespace tessera::chip_ops {

using Plan = compiler::ElementwisePlan;
using Op = Plan::Op;
using OpKind = Plan::Op::Kind;

// A plan over `shape` as (rows, cols), cols its last dimension (no rows when it is empty);
// whole_rows: each tile holds whole rows.
inline Plan shape_plan(const Shape& shape, bool whole_rows = false) {
  Plan p;
  p.cols = shape.empty() ? 1 : shape.back();
  p.rows = p.cols == 0 ? 0 : numel(shape) / p.cols;
  p.whole_rows = whole_rows;
  return p;
}

inline Plan::Op unary_op(int dst, int a, isa::UnaryFn fn) {
  Plan::Op op;
  op.kind = OpKind::Unary, op.dst = dst, op.a = a, op.unary = fn;
  return op;
}
inline Plan::Op binary_op(int dst, int a, int b, isa::BinaryFn fn) {
  Plan::Op op;
  op.kind = OpKind::Binary, op.dst = dst, op.a = a, op.b = b, op.binary = fn;
  return op;
}
// dst (rows x 1) = fn over each row of a.
inline Op reduce_op(int dst, int a, isa::ReduceFn fn) {
  Op op;
  op.kind = OpKind::Reduce, op.dst = dst, op.a = a, op.reduce = fn;
  return op;
}
inline Op convert_op(int dst, int a, DType to) {
  Op op;
  op.kind = OpKind::Convert, op.dst = dst, op.a = a, op.to = to;
  return op;
}
// An op on (rows x 1) values, and a Binary whose b is a (rows x 1) value broadcast along rows.
inline Plan::Op per_row(Plan::Op op) {
  op.per_row = true;
  return op;
}
inline Plan::Op col_b(Plan::Op op) {
  op.col_b = true;
  return op;
}
inline Plan::Op row_op(OpKind kind, int dst, int a, int b) {
  Plan::Op op;
  op.kind = kind, op.dst = dst, op.a = a, op.b = b;
  return op;
}

// Writes `slot` to HBM as `dtype`, after the ops; a narrower dtype is rounded on the chip, in
// place (vconvert reads its whole source before writing).
inline void add_output(Plan& p, int slot, int64_t hbm_addr, DType dtype) {
  if (dtype != DType::F32) p.ops.push_back(convert_op(slot, slot, dtype));
  p.outputs.push_back({slot, hbm_addr, dtype});
}

// gelu'(x) = 0.5 (1 + t) + 0.5 x (1 - t^2) k (1 + 3 c x^2), t = tanh(k (x + c x^3)),
// with tanh(u) = 2 / (1 + exp(-2u)) - 1. Slots: 0 x, 1 grad_out (becomes grad_in), temps.
// Sets the plan's constants, temporaries and ops.
inline void gelu_backward_ops(Plan& p) {
  const float c = 0.044715f, k = 0.7978845608f;
  p.constants = {c, 1.0f, k, -2.0f, 2.0f, 3.0f * c, -0.5f, 0.5f};
  int C = p.constant_slot(0), ONE = C + 1, K = C + 2, M2 = C + 3, TWO = C + 4, C3 = C + 5, MH = C + 6, H = C + 7;
  p.temporaries = 3;
  int x = 0, g = 1, t0 = p.temporary_slot(0), t1 = t0 + 1, t2 = t0 + 2;
  using F = isa::BinaryFn;
  p.ops = {binary_op(t0, x, x, F::Mul),                                     // x^2
           binary_op(t1, t0, C, F::Mul),   binary_op(t1, t1, ONE, F::Add),  // 1 + c x^2
           binary_op(t1, t1, x, F::Mul),   binary_op(t1, t1, K, F::Mul),    // u
           binary_op(t1, t1, M2, F::Mul),  unary_op(t1, t1, isa::UnaryFn::Exp),
           binary_op(t1, t1, ONE, F::Add), unary_op(t1, t1, isa::UnaryFn::Recip),
           binary_op(t1, t1, TWO, F::Mul), binary_op(t1, t1, ONE, F::Sub),  // t
           binary_op(t0, t0, C3, F::Mul),  binary_op(t0, t0, ONE, F::Add),
           binary_op(t0, t0, K, F::Mul),                                    // du/dx
           binary_op(t2, t1, t1, F::Mul),  binary_op(t2, t2, ONE, F::Sub),
           binary_op(t2, t2, MH, F::Mul),                                   // 0.5 (1 - t^2)
           binary_op(t2, t2, x, F::Mul),   binary_op(t2, t2, t0, F::Mul),
           binary_op(t1, t1, ONE, F::Add), binary_op(t1, t1, H, F::Mul),    // 0.5 (1 + t)
           binary_op(t1, t1, t2, F::Add),  binary_op(g, g, t1, F::Mul)};
}

// One AdamW update as the reference computes it, on slots 0 param, 1 grad, 2 m, 3 v (param, m
// and v updated in place), with the step's scalars as constants (kernel arguments, so that the
// program serves every step). Sets the plan's constants, temporaries and ops.
inline void adamw_ops(Plan& p, const AdamWArgs& args) {
  // The bias corrections are scalars of the step, computed here as the reference does.
  float correction1 = static_cast<float>(1.0 - std::pow(static_cast<double>(args.beta1), args.step));
  float correction2 = static_cast<float>(1.0 - std::pow(static_cast<double>(args.beta2), args.step));
  p.constants = {args.lr * args.weight_decay, args.beta1, 1.0f - args.beta1, args.beta2, 1.0f - args.beta2,
                 correction1, correction2, args.eps, args.lr};
  int LRWD = p.constant_slot(0), B1 = LRWD + 1, OMB1 = LRWD + 2, B2 = LRWD + 3, OMB2 = LRWD + 4, BC1 = LRWD + 5,
      BC2 = LRWD + 6, EPS = LRWD + 7, LR = LRWD + 8;
  p.temporaries = 2;
  int P = 0, G = 1, M = 2, V = 3, t0 = p.temporary_slot(0), t1 = t0 + 1;
  using F = isa::BinaryFn;
  p.ops = {binary_op(t0, P, LRWD, F::Mul), binary_op(P, P, t0, F::Sub),                              // decay
           binary_op(M, M, B1, F::Mul),    binary_op(t0, G, OMB1, F::Mul), binary_op(M, M, t0, F::Add),  // m
           binary_op(V, V, B2, F::Mul),    binary_op(t0, G, OMB2, F::Mul), binary_op(t0, t0, G, F::Mul),
           binary_op(V, V, t0, F::Add),                                                                // v
           binary_op(t0, M, BC1, F::Div),  binary_op(t0, t0, LR, F::Mul),                              // lr m_hat
           binary_op(t1, V, BC2, F::Div),  unary_op(t1, t1, isa::UnaryFn::Sqrt), binary_op(t1, t1, EPS, F::Add),
           binary_op(t0, t0, t1, F::Div),  binary_op(P, P, t0, F::Sub)};
}

}  // namespace tessera::chip_ops
