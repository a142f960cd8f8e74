// The chip backend's kernels (see chip_backend.h): each launch (chip_launch.h) stages its
// operands into HBM, builds its tile program (tile_program.h, or the compiler's GEMM for matmul,
// gemm_lowering.h), runs it and copies the results back.
#include <cmath>

#include "backends/chip/chip_backend.h"
#include "backends/chip/chip_launch.h"
#include "backends/chip/chip_plan_ops.h"
#include "compiler/tile_program.h"
#include "base/error.h"

namespace tessera {

namespace {

using namespace chip_ops;
using Layout = Plan::Layout;

isa::BinaryFn binary_fn(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add: return isa::BinaryFn::Add;
    case BinaryOp::Sub: return isa::BinaryFn::Sub;
    case BinaryOp::Mul: return isa::BinaryFn::Mul;
    case BinaryOp::Div: return isa::BinaryFn::Div;
  }
  TS_ASSERT(false);
  return isa::BinaryFn::Add;
}

isa::UnaryFn unary_fn(UnaryOp op) {
  switch (op) {
    case UnaryOp::Relu: return isa::UnaryFn::Relu;
    case UnaryOp::Gelu: return isa::UnaryFn::Gelu;
    case UnaryOp::Exp: return isa::UnaryFn::Exp;
    case UnaryOp::Log: return isa::UnaryFn::Log;
    case UnaryOp::Neg: return isa::UnaryFn::Neg;
    case UnaryOp::Sqrt: return isa::UnaryFn::Sqrt;
  }
  TS_ASSERT(false);
  return isa::UnaryFn::Copy;
}

bool all_zero(const Strides& strides) {
  for (int64_t s : strides)
    if (s != 0) return false;
  return true;
}

// b broadcast along every dimension but the last, which it holds contiguously.
bool is_row_broadcast(const View& b) {
  if (b.shape.size() < 2 || b.strides.back() != 1) return false;
  for (size_t d = 0; d + 1 < b.strides.size(); ++d)
    if (b.strides[d] != 0 && b.shape[d] != 1) return false;
  return true;
}

}  // namespace

void ChipBackend::copy(const View& src, const View& dst) {
  Plan p = shape_plan(dst.shape);
  if (p.rows == 0) return;
  Launch l(*this, Kernel::Copy);
  p.inputs.push_back(l.input(src, Layout::Full));
  p.ops = {unary_op(0, 0, isa::UnaryFn::Copy)};
  // A float destination is written in its dtype (a narrow one rounded on the chip), then scattered
  // to its strides on the way back; an integer one is converted on the way back.
  l.output(p, 0, dst, is_floating(dst.dtype) ? dst.dtype : DType::F32);
  l.run(p);
}

void ChipBackend::fill(const View& dst, double value) {
  Plan p = shape_plan(dst.shape);
  if (p.rows == 0) return;
  Launch l(*this, Kernel::Fill);
  p.temporaries = 1;
  Plan::Op op;
  op.kind = OpKind::Fill, op.value = static_cast<float>(value);
  p.ops = {op};
  // A float destination is written in its dtype (a narrow one rounded on the chip); an integer one
  // is converted on the way back.
  l.output(p, 0, dst, is_floating(dst.dtype) ? dst.dtype : DType::F32);
  l.run(p);
}

void ChipBackend::binary(BinaryOp op, const View& a, const View& b, const View& out) {
  Plan p = shape_plan(out.shape);
  if (p.rows == 0) return;
  Launch l(*this, Kernel::Binary);
  p.inputs.push_back(l.input(a, Layout::Full));
  if (all_zero(b.strides)) {
    float value = load(b, 0);
    p.inputs.push_back({l.stage(&value, 4), Layout::Scalar, 0});
  } else if (is_row_broadcast(b)) {
    View row{b.data, b.dtype, {p.cols}, {1}};
    p.inputs.push_back(l.input(row, Layout::Row));
  } else {
    p.inputs.push_back(l.input(b, Layout::Full));
  }
  p.ops = {binary_op(0, 0, 1, binary_fn(op))};
  l.output(p, 0, out);
  l.run(p);
}

void ChipBackend::unary(UnaryOp op, const View& x, const View& out) {
  Plan p = shape_plan(out.shape);
  if (p.rows == 0) return;
  Launch l(*this, Kernel::Unary);
  p.inputs.push_back(l.input(x, Layout::Full));
  p.ops = {unary_op(0, 0, unary_fn(op))};
  l.output(p, 0, out);
  l.run(p);
}

void ChipBackend::unary_backward(UnaryOp op, const View& x, const View& grad_out, const View& grad_in) {
  if (op != UnaryOp::Relu && op != UnaryOp::Gelu)
    fail("device '{}': unary_backward has no kernel for this op (only relu and gelu do)", name());
  Plan p = shape_plan(grad_in.shape);
  if (p.rows == 0) return;
  Launch l(*this, Kernel::UnaryBackward);
  p.inputs.push_back(l.input(x, Layout::Full));
  p.inputs.push_back(l.input(grad_out, Layout::Full));
  if (op == UnaryOp::Relu) {
    // step(x) = min(relu(x) * 2^100 * 2^100, 1): 1 for every x > 0 down to the smallest
    // subnormal (2^-149 * 2^200 >= 1), 0 for x <= 0.
    p.constants = {std::ldexp(1.0f, 100), 1.0f};
    int big = p.constant_slot(0), one = p.constant_slot(1);
    p.ops = {unary_op(0, 0, isa::UnaryFn::Relu), binary_op(0, 0, big, isa::BinaryFn::Mul),
             binary_op(0, 0, big, isa::BinaryFn::Mul), binary_op(0, 0, one, isa::BinaryFn::Min),
             binary_op(1, 1, 0, isa::BinaryFn::Mul)};
  } else {
    gelu_backward_ops(p);
  }
  l.output(p, 1, grad_in);
  l.run(p);
}

void ChipBackend::affine(const View& x, const View& out, float scale, float shift) {
  Plan p = shape_plan(out.shape);
  if (p.rows == 0) return;
  Launch l(*this, Kernel::Affine);
  p.inputs.push_back(l.input(x, Layout::Full));
  p.constants = {scale, shift};
  p.ops = {binary_op(0, 0, p.constant_slot(0), isa::BinaryFn::Mul),
           binary_op(0, 0, p.constant_slot(1), isa::BinaryFn::Add)};
  l.output(p, 0, out);
  l.run(p);
}

void ChipBackend::reduce(ReduceOp op, const View& x, const View& out, int64_t outer, int64_t n, int64_t inner) {
  if (outer * inner == 0) return;
  if (n == 0) return fill(out, op == ReduceOp::Sum ? 0.0 : -INFINITY);
  Launch l(*this, Kernel::Reduce);
  compiler::ElementwisePlan::Input source = l.input(x, Layout::Full);  // (outer, n, inner)
  int64_t result = l.result(out, out.dtype);                           // (outer, inner)
  isa::ReduceFn fn = op == ReduceOp::Sum ? isa::ReduceFn::Sum : isa::ReduceFn::Max;
  run_reduce(l, fn, source.hbm_addr, result, outer, n, inner, source.dtype, out.dtype);
}

void ChipBackend::run_reduce(Launch& l, isa::ReduceFn fn, int64_t x_addr, int64_t out_addr, int64_t outer, int64_t n,
                             int64_t inner, DType x_dtype, DType out_dtype, bool accumulate) {
  std::string key = compiler::reduce_key(fn, x_addr, out_addr, outer, n, inner, x_dtype, out_dtype, accumulate);
  l.run(programs_.program(chip(), "reduce", key, [&] {
    return compiler::reduce_program(chip(), fn, x_addr, out_addr, outer, n, inner, x_dtype, out_dtype, accumulate);
  }));
}

void ChipBackend::adamw(const View& param, const View& grad, const View& m, const View& v, const AdamWArgs& args) {
  int64_t n = param.numel();
  if (n == 0) return;
  TS_ASSERT(args.step >= 1);
  Launch l(*this, Kernel::AdamW);
  Plan p;
  // One row of n elements: the pass cuts it into column tiles.
  p.rows = 1, p.cols = n;
  // Param, m and v updated where they lie (each tile stored after its loads).
  p.inputs = {{l.update(param, DType::F32), Layout::Full, 0}, {l.stage_f32(grad), Layout::Full, 0},
              {l.update(m, DType::F32), Layout::Full, 0}, {l.update(v, DType::F32), Layout::Full, 0}};
  chip_ops::adamw_ops(p, args);
  for (int slot : {0, 2, 3}) chip_ops::add_output(p, slot, p.inputs[slot].hbm_addr, DType::F32);
  l.run(p);
}

void ChipBackend::reduce_max(const View& x, const View& out, const View& indices, int64_t outer, int64_t n,
                             int64_t inner) {
  if (outer * inner == 0) return;
  if (n == 0) return ReferenceBackend::reduce_max(x, out, indices, outer, n, inner);
  Launch l(*this, Kernel::ReduceMax);
  Plan p;
  // (outer, n, inner) staged as (outer * inner, n): one row per output.
  p.rows = outer * inner, p.cols = n, p.whole_rows = true;
  View rows_of_n{x.data, x.dtype, {outer, inner, n}, {n * inner, 1, inner}};
  p.inputs.push_back({l.stage_f32(rows_of_n), Layout::Full, 0});
  std::vector<float> weights(static_cast<size_t>(n));  // n - j: the first arg-max weighs most
  for (int64_t j = 0; j < n; ++j) weights[j] = static_cast<float>(n - j);
  p.inputs.push_back({l.stage(weights.data(), n * 4), Layout::Row, 0});
  // is_max = relu((x - max) * 2^100 * 2^100 + 1): 1 where x equals the row's max, else 0 (as in
  // relu's backward, the smallest difference still reaches -1).
  p.constants = {std::ldexp(1.0f, 100), 1.0f};
  int X = 0, W = 1, BIG = p.constant_slot(0), ONE = BIG + 1;
  p.temporaries = 1, p.row_temporaries = 2;  // is_max weights; the row's max and its best weight
  require_rows_fit(Kernel::ReduceMax, p, DType::F32);
  int t1 = p.temporary_slot(0), t0 = p.row_temporary_slot(0), t2 = t0 + 1;
  using F = isa::BinaryFn;
  Plan::Op row_max = row_op(OpKind::Reduce, t0, X, 0), first = row_op(OpKind::Reduce, t2, t1, 0);
  row_max.reduce = first.reduce = isa::ReduceFn::Max;
  p.ops = {row_max,
           col_b(binary_op(t1, X, t0, F::Sub)),  binary_op(t1, t1, BIG, F::Mul), binary_op(t1, t1, BIG, F::Mul),
           binary_op(t1, t1, ONE, F::Add),       unary_op(t1, t1, isa::UnaryFn::Relu),
           binary_op(t1, t1, W, F::Mul),  // n - j where x is the max, else 0
           first};
  l.row_output(p, t0, out);
  int64_t weight_out = l.place(p.rows * 4);
  p.outputs.push_back({t2, weight_out, DType::F32, true});
  l.run(p);
  std::vector<float> best(static_cast<size_t>(p.rows));
  l.fetch(best.data(), weight_out, p.rows * 4);
  for (int64_t r = 0; r < p.rows; ++r) store_index(indices, r, n - static_cast<int64_t>(best[r]));
}

void ChipBackend::stage_targets(Launch& l, compiler::ElementwisePlan& p, const View& targets) {
  int64_t tile_rows = compiler::elementwise_tile_rows(chip(), p);
  std::vector<int32_t> index(static_cast<size_t>(p.rows));
  std::vector<float> valid(static_cast<size_t>(p.rows));
  for (int64_t r = 0; r < p.rows; ++r) {
    int64_t target = load_index(targets, r);
    TS_ASSERT(target < p.cols);
    index[r] = static_cast<int32_t>(r % tile_rows * p.cols + std::max<int64_t>(target, 0));
    valid[r] = target < 0 ? 0.0f : 1.0f;
  }
  p.inputs[1] = {l.stage(index.data(), p.rows * 4), Layout::Col, 0};
  p.inputs[2] = {l.stage(valid.data(), p.rows * 4), Layout::Col, 0};
}

void ChipBackend::cross_entropy(const View& logits, const View& targets, const View& losses, const View& lse) {
  int64_t rows = targets.numel();
  if (rows == 0) return;
  Launch l(*this, Kernel::CrossEntropy);
  Plan p;
  p.rows = rows, p.cols = logits.numel() / rows, p.whole_rows = true;
  p.inputs.resize(3);
  p.inputs[0] = {l.stage_f32(logits), Layout::Full, 0};
  p.inputs[1].layout = p.inputs[2].layout = Layout::Col;  // the targets, staged below
  p.temporaries = 1, p.row_temporaries = 3;  // exp(x - m); the row's max, lse and loss
  require_rows_fit(Kernel::CrossEntropy, p, DType::F32);
  int X = 0, INDEX = 1, VALID = 2, t1 = p.temporary_slot(0), t0 = p.row_temporary_slot(0), t2 = t0 + 1, t3 = t0 + 2;
  stage_targets(l, p, targets);
  using F = isa::BinaryFn;
  Plan::Op row_max = row_op(OpKind::Reduce, t0, X, 0), row_sum = row_op(OpKind::Reduce, t2, t1, 0);
  row_max.reduce = isa::ReduceFn::Max;
  p.ops = {row_max,                                                                     // m
           col_b(binary_op(t1, X, t0, F::Sub)), unary_op(t1, t1, isa::UnaryFn::Exp),  // exp(x - m)
           row_sum,           per_row(unary_op(t2, t2, isa::UnaryFn::Log)),
           per_row(binary_op(t2, t2, t0, F::Add)),                                     // lse
           row_op(OpKind::Gather, t3, X, INDEX),                                       // x[target]
           per_row(binary_op(t3, t2, t3, F::Sub)), per_row(binary_op(t3, t3, VALID, F::Mul))};
  l.row_output(p, t3, losses);
  l.row_output(p, t2, lse);
  l.run(p);
}

void ChipBackend::cross_entropy_backward(const View& logits, const View& targets, const View& lse,
                                         const View& dlosses, const View& dlogits) {
  int64_t rows = targets.numel();
  if (rows == 0) return;
  Launch l(*this, Kernel::CrossEntropyBackward);
  Plan p;
  p.rows = rows, p.cols = logits.numel() / rows, p.whole_rows = true;
  p.inputs.resize(3);
  p.inputs[0] = {l.stage_f32(logits), Layout::Full, 0};
  p.inputs.push_back({l.stage_f32(lse), Layout::Col, 0});
  p.inputs.push_back({l.stage_f32(dlosses), Layout::Col, 0});
  p.inputs[1].layout = p.inputs[2].layout = Layout::Col;  // the targets, staged below
  p.temporaries = 1, p.row_temporaries = 1;  // the gradient; each row's scale
  require_rows_fit(Kernel::CrossEntropyBackward, p, DType::F32);
  int X = 0, INDEX = 1, VALID = 2, LSE = 3, DLOSS = 4, t0 = p.temporary_slot(0), t1 = p.row_temporary_slot(0);
  stage_targets(l, p, targets);
  using F = isa::BinaryFn;
  p.ops = {binary_op(t0, X, LSE, F::Sub), unary_op(t0, t0, isa::UnaryFn::Exp),  // softmax
           per_row(binary_op(t1, DLOSS, VALID, F::Mul)),                        // g: 0 for ignored rows
           col_b(binary_op(t0, t0, t1, F::Mul)),                                // g softmax
           per_row(unary_op(t1, t1, isa::UnaryFn::Neg)),
           row_op(OpKind::ScatterAdd, t0, t1, INDEX)};                          // - g at the target
  l.output(p, t0, dlogits, DType::F32);
  l.run(p);
}

void ChipBackend::matmul(const View& a, const View& b, const View& out, const MatmulArgs& g) {
  if (g.batch == 0 || g.m == 0 || g.n == 0) return;
  if (g.k == 0) return ReferenceBackend::matmul(a, b, out, g);  // nothing to multiply: 0, or out unchanged
  compiler::GemmKernel kernel;
  kernel.batch = g.batch, kernel.m = g.m, kernel.n = g.n, kernel.k = g.k;
  kernel.transpose_a = g.transpose_a, kernel.transpose_b = g.transpose_b;
  kernel.a_dtype = a.dtype, kernel.b_dtype = b.dtype, kernel.out_dtype = out.dtype;
  kernel.accumulate = g.accumulate;
  kernel.batch_stride_a = g.batch_stride_a, kernel.batch_stride_b = g.batch_stride_b;
  kernel.batch_stride_out = g.batch_stride_out;
  Launch l(*this, Kernel::Matmul);
  // The operands as they are in memory; the output updated when the program reads it or when
  // its batches leave gaps that a copy-back must not overwrite.
  compiler::GemmArgs args;
  args.a = l.stage(a.data, kernel.a_bytes());
  args.b = l.stage(b.data, kernel.b_bytes());
  bool gaps = g.batch > 1 && g.batch_stride_out != g.m * g.n;
  args.out = g.accumulate || gaps ? l.update(out.data, kernel.out_bytes()) : l.write_to(out.data, kernel.out_bytes());
  l.run(gemm_programs_.program(kernel, chip(), args));
}

}  // namespace tessera
