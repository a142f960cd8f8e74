// The chip backend's kernels (see chip_backend.h): each is its tile plan (tile_program.h),
// launched by `elementwise`, which stages the operands into HBM, runs the program and copies
// the results back; reduce and matmul (the compiler's GEMM, compiler/gemm_lowering.h) stage
// and fetch their own.
#include <cmath>

#include "backends/chip/chip_backend.h"
#include "backends/chip/chip_plan_ops.h"
#include "compiler/tile_program.h"
#include "base/error.h"

namespace tessera {

namespace {

using namespace chip_ops;
using Layout = Plan::Layout;

// A plan of `inputs` inputs over (rows, cols). The inputs come first among the slots, so
// that constant_slot and temporary_slot count them.
Plan plan_over(int64_t rows, int64_t cols, size_t inputs) {
  Plan p;
  p.rows = rows, p.cols = cols;
  p.inputs.resize(inputs);
  return p;
}

// The same over the (rows, cols) of `shape`: cols is the last dimension.
Plan plan_over(const Shape& shape, size_t inputs) {
  int64_t cols = shape.empty() ? 1 : shape.back();
  return plan_over(cols == 0 ? 0 : numel(shape) / cols, cols, inputs);
}

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

void ChipBackend::elementwise(Kernel kernel, Plan& p, const std::vector<Operand>& operands,
                              const std::vector<Result>& results) {
  if (p.rows == 0 || p.cols == 0) return;
  TS_ASSERT(p.inputs.size() == operands.size());
  std::lock_guard lock(launch_mutex_);
  Staging hbm;
  const View* targets = nullptr;
  for (size_t i = 0; i < operands.size(); ++i) {
    const Operand& o = operands[i];
    if (o.source == Source::Values) {
      p.inputs[i] = {stage_f32(hbm, o.view), o.layout, 0};
      continue;
    }
    TS_ASSERT(i == (o.source == Source::TargetIndex ? 1u : 2u));  // stage_targets' slots
    targets = &o.view;
  }
  if (targets) stage_targets(hbm, p, *targets);
  std::vector<int64_t> addrs;
  for (const Result& r : results) {
    addrs.push_back(hbm.place((r.per_row ? p.rows : p.rows * p.cols) * static_cast<int64_t>(dtype_size(r.dtype))));
    p.outputs.push_back({r.slot, addrs.back(), r.dtype, r.per_row});
  }
  run(kernel, compiler::elementwise_program(chip(), p));
  for (size_t i = 0; i < results.size(); ++i) {
    const Result& r = results[i];
    if (r.dtype == DType::F32) {
      fetch_f32(r.dst, addrs[i]);
    } else {
      fetch(r.dst.data, addrs[i], r.dst.numel() * static_cast<int64_t>(dtype_size(r.dtype)));
    }
  }
}

void ChipBackend::copy(const View& src, const View& dst) {
  Plan p = plan_over(dst.shape, 1);
  // A contiguous bf16 destination is rounded on the chip; any other one is scattered on the way back.
  bool convert = dst.dtype == DType::BF16 && dst.is_contiguous();
  Plan::Op op = unary_op(0, 0, isa::UnaryFn::Copy);
  if (convert) {
    p.temporaries = 1;
    op.kind = OpKind::Convert, op.dst = p.temporary_slot(0), op.to = DType::BF16;
  }
  p.ops = {op};
  elementwise(Kernel::Copy, p, {{src}}, {{op.dst, dst, false, convert ? DType::BF16 : DType::F32}});
}

void ChipBackend::fill(const View& dst, double value) {
  Plan p = plan_over(dst.shape, 0);
  p.temporaries = 1;
  Plan::Op op;
  op.kind = OpKind::Fill, op.value = static_cast<float>(value);
  p.ops = {op};
  elementwise(Kernel::Fill, p, {}, {{0, dst}});
}

void ChipBackend::binary(BinaryOp op, const View& a, const View& b, const View& out) {
  Plan p = plan_over(out.shape, 2);
  // b read once: a scalar, or a row for every row of a; else staged expanded.
  Operand second{b};
  if (all_zero(b.strides))
    second = {View{b.data, b.dtype, {1}, {1}}, Layout::Scalar};
  else if (is_row_broadcast(b))
    second = {View{b.data, b.dtype, {p.cols}, {1}}, Layout::Row};
  p.ops = {binary_op(0, 0, 1, binary_fn(op))};
  elementwise(Kernel::Binary, p, {{a}, second}, {{0, out}});
}

void ChipBackend::unary(UnaryOp op, const View& x, const View& out) {
  Plan p = plan_over(out.shape, 1);
  p.ops = {unary_op(0, 0, unary_fn(op))};
  elementwise(Kernel::Unary, p, {{x}}, {{0, out}});
}

void ChipBackend::unary_backward(UnaryOp op, const View& x, const View& grad_out, const View& grad_in) {
  if (op != UnaryOp::Relu && op != UnaryOp::Gelu)
    fail("device '{}': unary_backward has no kernel for this op (only relu and gelu do)", name());
  Plan p = plan_over(grad_in.shape, 2);
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
  elementwise(Kernel::UnaryBackward, p, {{x}, {grad_out}}, {{1, grad_in}});
}

void ChipBackend::affine(const View& x, const View& out, float scale, float shift) {
  Plan p = plan_over(out.shape, 1);
  p.constants = {scale, shift};
  p.ops = {binary_op(0, 0, p.constant_slot(0), isa::BinaryFn::Mul),
           binary_op(0, 0, p.constant_slot(1), isa::BinaryFn::Add)};
  elementwise(Kernel::Affine, p, {{x}}, {{0, out}});
}

void ChipBackend::reduce(ReduceOp op, const View& x, const View& out, int64_t outer, int64_t n, int64_t inner) {
  if (outer * inner == 0) return;
  if (n == 0) return fill(out, op == ReduceOp::Sum ? 0.0 : -INFINITY);
  std::lock_guard lock(launch_mutex_);
  Staging hbm;
  int64_t source = stage_f32(hbm, x);  // (outer, n, inner)
  int64_t result = hbm.place(outer * inner * 4);
  isa::ReduceFn fn = op == ReduceOp::Sum ? isa::ReduceFn::Sum : isa::ReduceFn::Max;
  run(Kernel::Reduce, compiler::reduce_program(chip(), fn, source, result, outer, n, inner));
  fetch_f32(out, result);
}

void ChipBackend::adamw(const View& param, const View& grad, const View& m, const View& v, const AdamWArgs& args) {
  TS_ASSERT(args.step >= 1);
  Plan p = plan_over(1, param.numel(), 4);  // one row of n elements: the pass cuts it into column tiles
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
  elementwise(Kernel::AdamW, p, {{param}, {grad}, {m}, {v}}, {{P, param}, {M, m}, {V, v}});
}

void ChipBackend::reduce_max(const View& x, const View& out, const View& indices, int64_t outer, int64_t n,
                             int64_t inner) {
  if (n == 0) return ReferenceBackend::reduce_max(x, out, indices, outer, n, inner);
  Plan p = plan_over(outer * inner, n, 2);  // (outer, n, inner) staged as (outer * inner, n): a row per output
  p.whole_rows = true;
  View rows_of_n{x.data, x.dtype, {outer, inner, n}, {n * inner, 1, inner}};
  std::vector<float> weights(static_cast<size_t>(n));  // n - j: the first arg-max weighs most
  for (int64_t j = 0; j < n; ++j) weights[j] = static_cast<float>(n - j);
  // is_max = relu((x - max) * 2^100 * 2^100 + 1): 1 where x equals the row's max, else 0 (as in
  // relu's backward, the smallest difference still reaches -1).
  p.constants = {std::ldexp(1.0f, 100), 1.0f};
  int X = 0, W = 1, BIG = p.constant_slot(0), ONE = BIG + 1;
  p.temporaries = 3;
  int t0 = p.temporary_slot(0), t1 = t0 + 1, t2 = t0 + 2;
  using F = isa::BinaryFn;
  Plan::Op row_max = row_op(OpKind::Reduce, t0, X, 0), first = row_op(OpKind::Reduce, t2, t1, 0);
  row_max.reduce = first.reduce = isa::ReduceFn::Max;
  p.ops = {row_max,
           col_b(binary_op(t1, X, t0, F::Sub)),  binary_op(t1, t1, BIG, F::Mul), binary_op(t1, t1, BIG, F::Mul),
           binary_op(t1, t1, ONE, F::Add),       unary_op(t1, t1, isa::UnaryFn::Relu),
           binary_op(t1, t1, W, F::Mul),  // n - j where x is the max, else 0
           first};
  std::vector<float> best(static_cast<size_t>(p.rows));
  elementwise(Kernel::ReduceMax, p, {{rows_of_n}, {View{weights.data(), DType::F32, {n}, {1}}, Layout::Row}},
              {{t0, out, true}, {t2, View{best.data(), DType::F32, {p.rows}, {1}}, true}});
  for (int64_t r = 0; r < p.rows; ++r) store_index(indices, r, n - static_cast<int64_t>(best[r]));
}

void ChipBackend::stage_targets(Staging& hbm, compiler::ElementwisePlan& p, const View& targets) {
  int64_t tile_rows = compiler::elementwise_tile_rows(chip(), p);
  std::vector<int32_t> index(static_cast<size_t>(p.rows));
  std::vector<float> valid(static_cast<size_t>(p.rows));
  for (int64_t r = 0; r < p.rows; ++r) {
    int64_t target = load_index(targets, r);
    TS_ASSERT(target < p.cols);
    index[r] = static_cast<int32_t>(r % tile_rows * p.cols + std::max<int64_t>(target, 0));
    valid[r] = target < 0 ? 0.0f : 1.0f;
  }
  p.inputs[1] = {stage(hbm, index.data(), p.rows * 4), Layout::Col, 0};
  p.inputs[2] = {stage(hbm, valid.data(), p.rows * 4), Layout::Col, 0};
}

void ChipBackend::cross_entropy(const View& logits, const View& targets, const View& losses, const View& lse) {
  int64_t rows = targets.numel();
  Plan p = plan_over(rows, rows ? logits.numel() / rows : 0, 3);
  p.whole_rows = true;
  p.temporaries = 4;
  int X = 0, INDEX = 1, VALID = 2, t0 = p.temporary_slot(0), t1 = t0 + 1, t2 = t0 + 2, t3 = t0 + 3;
  using F = isa::BinaryFn;
  Plan::Op row_max = row_op(OpKind::Reduce, t0, X, 0), row_sum = row_op(OpKind::Reduce, t2, t1, 0);
  row_max.reduce = isa::ReduceFn::Max;
  p.ops = {row_max,                                                                     // m
           col_b(binary_op(t1, X, t0, F::Sub)), unary_op(t1, t1, isa::UnaryFn::Exp),  // exp(x - m)
           row_sum,           per_row(unary_op(t2, t2, isa::UnaryFn::Log)),
           per_row(binary_op(t2, t2, t0, F::Add)),                                     // lse
           row_op(OpKind::Gather, t3, X, INDEX),                                       // x[target]
           per_row(binary_op(t3, t2, t3, F::Sub)), per_row(binary_op(t3, t3, VALID, F::Mul))};
  elementwise(Kernel::CrossEntropy, p,
              {{logits}, {targets, Layout::Col, Source::TargetIndex}, {targets, Layout::Col, Source::TargetValid}},
              {{t3, losses, true}, {t2, lse, true}});
}

void ChipBackend::cross_entropy_backward(const View& logits, const View& targets, const View& lse,
                                         const View& dlosses, const View& dlogits) {
  int64_t rows = targets.numel();
  Plan p = plan_over(rows, rows ? logits.numel() / rows : 0, 5);
  p.whole_rows = true;
  p.temporaries = 2;
  int X = 0, INDEX = 1, VALID = 2, LSE = 3, DLOSS = 4, t0 = p.temporary_slot(0), t1 = t0 + 1;
  using F = isa::BinaryFn;
  p.ops = {binary_op(t0, X, LSE, F::Sub), unary_op(t0, t0, isa::UnaryFn::Exp),  // softmax
           per_row(binary_op(t1, DLOSS, VALID, F::Mul)),                        // g: 0 for ignored rows
           col_b(binary_op(t0, t0, t1, F::Mul)),                                // g softmax
           per_row(unary_op(t1, t1, isa::UnaryFn::Neg)),
           row_op(OpKind::ScatterAdd, t0, t1, INDEX)};                          // - g at the target
  elementwise(Kernel::CrossEntropyBackward, p,
              {{logits}, {targets, Layout::Col, Source::TargetIndex}, {targets, Layout::Col, Source::TargetValid},
               {lse, Layout::Col}, {dlosses, Layout::Col}},
              {{t0, dlogits}});
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
  std::lock_guard lock(launch_mutex_);
  // The operands as they are in memory; the output too when the program reads it or when its
  // batches leave gaps that the copy-back must not overwrite.
  Staging hbm;
  compiler::GemmArgs args;
  args.a = stage(hbm, a.data, kernel.a_bytes());
  args.b = stage(hbm, b.data, kernel.b_bytes());
  bool gaps = g.batch > 1 && g.batch_stride_out != g.m * g.n;
  args.out = g.accumulate || gaps ? stage(hbm, out.data, kernel.out_bytes()) : hbm.place(kernel.out_bytes());
  run(Kernel::Matmul, gemm_programs_.program(kernel, chip(), args));
  fetch(out.data, args.out, kernel.out_bytes());
}

}  // namespace tessera
