// The chip backend's fused kernels (see chip_backend.h): bias + GELU (f32 and bf16: bf16 tiles
// widened and results rounded by vconvert on the chip) as one elementwise pass with the bias as a
// Row input, and residual add + layer norm (f32) as one whole-row pass (as cross_entropy). The
// backward passes write their per-element gradient products to HBM in f32, and the sums over
// rows that dbias and dweight need run as reduction programs on the chip that add them into
// the accumulated gradients, in their dtype, as they store them.
#include "backends/chip/chip_backend.h"
#include "backends/chip/chip_launch.h"
#include "backends/chip/chip_plan_ops.h"
#include "base/error.h"

namespace tessera {

using namespace chip_ops;

namespace {

using Layout = Plan::Layout;
using F = isa::BinaryFn;

Plan::Op reduce_sum(int dst, int a) { return row_op(OpKind::Reduce, dst, a, 0); }

}  // namespace

void ChipBackend::add_column_sums(Launch& l, int64_t addr, int64_t rows, int64_t cols, std::span<const View> accs) {
  DType dtype = accs.front().dtype;
  for (const View& acc : accs) TS_ASSERT(acc.dtype == dtype && acc.numel() == cols);
  int64_t target = l.update(accs, dtype);
  run_reduce(l, isa::ReduceFn::Sum, addr, target, static_cast<int64_t>(accs.size()), rows, cols, DType::F32, dtype,
             true);
}

void ChipBackend::bias_gelu(const View& x, const View& bias, const View& y) {
  Plan p = shape_plan(x.shape);
  if (p.rows == 0) return;
  Launch l(*this, Kernel::BiasGelu);
  p.inputs = {l.input(x, Layout::Full), l.input(bias, Layout::Row)};
  p.ops = {binary_op(0, 0, 1, F::Add), unary_op(0, 0, isa::UnaryFn::Gelu)};
  l.output(p, 0, y);
  l.run(p);
}

void ChipBackend::bias_gelu_backward(const View& x, const View& bias, const View& dy, const View& dx,
                                     const View& dbias) {
  Plan p = shape_plan(x.shape);
  if (p.rows == 0) return;
  Launch l(*this, Kernel::BiasGeluBackward);
  p.inputs = {l.input(x, Layout::Full), l.input(dy, Layout::Full), l.input(bias, Layout::Row)};
  gelu_backward_ops(p);                                      // slot 0 x, slot 1 dy -> dx
  p.ops.insert(p.ops.begin(), binary_op(0, 0, 2, F::Add));  // x + bias first
  // dx in f32 for the column sums of dbias and, when narrower, rounded on the chip into a
  // temporary of its own (outputs are stored after all ops).
  int64_t grad = 0;
  if (dx.dtype == DType::F32) {
    l.output(p, 1, dx);
    grad = p.outputs.back().hbm_addr;
  } else {
    grad = l.place(p.rows * p.cols * 4);
    p.outputs = {{1, grad, DType::F32}};
    int narrow = p.temporary_slot(p.temporaries++);
    p.ops.push_back(convert_op(narrow, 1, dx.dtype));
    p.outputs.push_back({narrow, l.result(dx, dx.dtype), dx.dtype});
  }
  l.run(p);
  add_column_sums(l, grad, p.rows, p.cols, {&dbias, 1});
}

void ChipBackend::add_layer_norm(const View& x, const View& r, const View& weight, const View& bias, const View& s,
                                 const View& y, const View& mean, const View& rstd, float eps) {
  Plan p = shape_plan(x.shape, true);
  if (p.rows == 0) return;
  Launch l(*this, Kernel::AddLayerNorm);
  p.inputs = {{l.stage_f32(x), Layout::Full, 0}, {l.stage_f32(r), Layout::Full, 0},
              {l.stage_f32(weight), Layout::Row, 0}, {l.stage_f32(bias), Layout::Row, 0}};
  p.constants = {1.0f / static_cast<float>(p.cols), eps};
  p.temporaries = 3;
  int S = 0, D = 1, W = 2, B = 3, INV_C = p.constant_slot(0), EPS = INV_C + 1;
  int MEAN = p.temporary_slot(0), RSTD = MEAN + 1, Y = MEAN + 2;
  p.ops = {binary_op(S, S, 1, F::Add),                                                          // s = x + r
           reduce_sum(MEAN, S),          per_row(binary_op(MEAN, MEAN, INV_C, F::Mul)),
           col_b(binary_op(D, S, MEAN, F::Sub)),                                                // s - mean
           binary_op(Y, D, D, F::Mul),   reduce_sum(RSTD, Y),
           per_row(binary_op(RSTD, RSTD, INV_C, F::Mul)), per_row(binary_op(RSTD, RSTD, EPS, F::Add)),
           per_row(unary_op(RSTD, RSTD, isa::UnaryFn::Sqrt)), per_row(unary_op(RSTD, RSTD, isa::UnaryFn::Recip)),
           col_b(binary_op(Y, D, RSTD, F::Mul)),                                                // xhat
           binary_op(Y, Y, W, F::Mul),   binary_op(Y, Y, B, F::Add)};
  l.output(p, S, s, DType::F32);
  l.output(p, Y, y, DType::F32);
  l.row_output(p, MEAN, mean);
  l.row_output(p, RSTD, rstd);
  l.run(p);
}

void ChipBackend::add_layer_norm_backward(const View& dy, const View& ds, const View& s, const View& weight,
                                          const View& mean, const View& rstd, const View& dx, const View& dweight,
                                          const View& dbias) {
  Plan p = shape_plan(s.shape, true);
  if (p.rows == 0) return;
  Launch l(*this, Kernel::AddLayerNormBackward);
  int64_t dy_addr = l.stage_f32(dy);
  p.inputs = {{dy_addr, Layout::Full, 0},           {l.stage_f32(s), Layout::Full, 0},
              {l.stage_f32(weight), Layout::Row, 0}, {l.stage_f32(mean), Layout::Col, 0},
              {l.stage_f32(rstd), Layout::Col, 0}};
  if (ds.data) p.inputs.push_back({l.stage_f32(ds), Layout::Full, 0});
  p.constants = {1.0f / static_cast<float>(p.cols)};
  p.temporaries = 5;
  int DY = 0, S = 1, W = 2, MEAN = 3, RSTD = 4, DS = 5, INV_C = p.constant_slot(0);
  int XHAT = p.temporary_slot(0), DXHAT = XHAT + 1, M1 = XHAT + 2, M2 = XHAT + 3, T = XHAT + 4;
  // dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) (+ ds), dxhat = dy * weight.
  p.ops = {binary_op(XHAT, S, MEAN, F::Sub),  binary_op(XHAT, XHAT, RSTD, F::Mul),
           binary_op(DXHAT, DY, W, F::Mul),
           reduce_sum(M1, DXHAT),            per_row(binary_op(M1, M1, INV_C, F::Mul)),
           binary_op(T, DXHAT, XHAT, F::Mul), reduce_sum(M2, T), per_row(binary_op(M2, M2, INV_C, F::Mul)),
           col_b(binary_op(T, XHAT, M2, F::Mul)), col_b(binary_op(DXHAT, DXHAT, M1, F::Sub)),
           binary_op(DXHAT, DXHAT, T, F::Sub), binary_op(DXHAT, DXHAT, RSTD, F::Mul)};
  if (ds.data) p.ops.push_back(binary_op(DXHAT, DXHAT, DS, F::Add));
  p.ops.push_back(binary_op(T, DY, XHAT, F::Mul));  // dy * xhat, summed over rows into dweight
  l.output(p, DXHAT, dx, DType::F32);
  int64_t dyxhat_out = l.place(p.rows * p.cols * 4);
  p.outputs.push_back({T, dyxhat_out, DType::F32});
  l.run(p);
  add_column_sums(l, dyxhat_out, p.rows, p.cols, {&dweight, 1});
  add_column_sums(l, dy_addr, p.rows, p.cols, {&dbias, 1});
}

}  // namespace tessera
