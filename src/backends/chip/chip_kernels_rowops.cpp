// The chip backend's row-wise, reduction and optimizer kernels (see chip_backend.h): softmax,
// log_softmax and layer_norm with their backwards, sgd_momentum, scatter_along and sum_squares,
// in f32 and bf16. Narrow operands are staged as they are and widened by the program; narrow
// results are rounded on the chip (vconvert) before they are written back.
#include <cstring>

#include "backends/chip/chip_backend.h"
#include "backends/chip/chip_launch.h"
#include "backends/chip/chip_plan_ops.h"
#include "base/error.h"
#include "compiler/scatter_program.h"
#include "compiler/sum_squares_program.h"

namespace tessera {

namespace {

using namespace chip_ops;
using Layout = Plan::Layout;
using F = isa::BinaryFn;
using U = isa::UnaryFn;
using R = isa::ReduceFn;

}  // namespace

compiler::ElementwisePlan::Input ChipBackend::stage_input(Staging& hbm, const View& v, Layout layout) {
  if (v.dtype == DType::F32 || !is_floating(v.dtype)) return {stage_f32(hbm, v), layout, 0, DType::F32};
  return {stage_as(hbm, v, v.dtype), layout, 0, v.dtype};
}

void ChipBackend::pack_as_is(const View& v, uint8_t* out) {
  auto es = static_cast<size_t>(dtype_size(v.dtype));
  if (v.is_contiguous()) return (void)std::memcpy(out, v.data, static_cast<size_t>(v.numel()) * es);
  std::vector<int64_t> offsets = element_offsets(v.shape, v.strides);
  for (size_t i = 0; i < offsets.size(); ++i)
    std::memcpy(out + i * es, static_cast<const uint8_t*>(v.data) + offsets[i] * static_cast<int64_t>(es), es);
}

void ChipBackend::fetch_as_is(const View& dst, int64_t hbm_addr) {
  auto es = static_cast<int64_t>(dtype_size(dst.dtype));
  if (dst.is_contiguous()) return fetch(dst.data, hbm_addr, dst.numel() * es);
  std::vector<uint8_t> packed(static_cast<size_t>(dst.numel() * es));
  fetch(packed.data(), hbm_addr, dst.numel() * es);
  std::vector<int64_t> offsets = element_offsets(dst.shape, dst.strides);
  for (size_t i = 0; i < offsets.size(); ++i)
    std::memcpy(static_cast<uint8_t*>(dst.data) + offsets[i] * es, &packed[i * es], static_cast<size_t>(es));
}

void ChipBackend::require_rows_fit(Kernel kernel, const compiler::ElementwisePlan& plan, DType dtype) const {
  int64_t needed = compiler::elementwise_scratchpad_bytes(plan, 1);
  if (needed > chip().scratchpad_bytes)
    fail("device '{}': {} cannot run: one row of {} {} needs {} bytes of scratchpad (double-buffered), the chip has {}",
         name(), kernel_name(kernel), plan.cols, dtype_name(dtype), needed, chip().scratchpad_bytes);
}

void ChipBackend::softmax(const View& x, const View& y) {
  Plan p = shape_plan(x.shape, true);
  if (p.rows == 0) return;
  Launch l(*this, Kernel::Softmax);
  p.inputs = {l.input(x, Layout::Full)};
  p.row_temporaries = 1;
  int X = 0, t = p.row_temporary_slot(0);
  // y = exp(x - max) / sum(exp(x - max)); t holds each row's max, then 1 / sum.
  p.ops = {reduce_op(t, X, R::Max),           col_b(binary_op(X, X, t, F::Sub)), unary_op(X, X, U::Exp),
           reduce_op(t, X, R::Sum),           per_row(unary_op(t, t, U::Recip)), col_b(binary_op(X, X, t, F::Mul))};
  require_rows_fit(Kernel::Softmax, p, x.dtype);
  l.output(p, X, y);
  l.run(p);
}

void ChipBackend::softmax_backward(const View& y, const View& dy, const View& dx) {
  Plan p = shape_plan(y.shape, true);
  if (p.rows == 0) return;
  Launch l(*this, Kernel::SoftmaxBackward);
  p.inputs = {l.input(y, Layout::Full), l.input(dy, Layout::Full)};
  p.temporaries = 1;
  int Y = 0, DY = 1, t = p.temporary_slot(0);
  // dx = y * (dy - sum(y * dy)).
  p.ops = {binary_op(t, Y, DY, F::Mul), reduce_op(t, t, R::Sum), col_b(binary_op(DY, DY, t, F::Sub)),
           binary_op(DY, DY, Y, F::Mul)};
  require_rows_fit(Kernel::SoftmaxBackward, p, y.dtype);
  l.output(p, DY, dx);
  l.run(p);
}

void ChipBackend::log_softmax(const View& x, const View& y) {
  Plan p = shape_plan(x.shape, true);
  if (p.rows == 0) return;
  Launch l(*this, Kernel::LogSoftmax);
  p.inputs = {l.input(x, Layout::Full)};
  p.temporaries = 1, p.row_temporaries = 1;
  int X = 0, t1 = p.temporary_slot(0), t0 = p.row_temporary_slot(0);
  // y = (x - max) - log(sum(exp(x - max))); t0 holds each row's max, then the log of the sum.
  p.ops = {reduce_op(t0, X, R::Max), col_b(binary_op(X, X, t0, F::Sub)), unary_op(t1, X, U::Exp),
           reduce_op(t0, t1, R::Sum), per_row(unary_op(t0, t0, U::Log)),  col_b(binary_op(X, X, t0, F::Sub))};
  require_rows_fit(Kernel::LogSoftmax, p, x.dtype);
  l.output(p, X, y);
  l.run(p);
}

void ChipBackend::log_softmax_backward(const View& y, const View& dy, const View& dx) {
  Plan p = shape_plan(y.shape, true);
  if (p.rows == 0) return;
  Launch l(*this, Kernel::LogSoftmaxBackward);
  p.inputs = {l.input(y, Layout::Full), l.input(dy, Layout::Full)};
  p.row_temporaries = 1;
  int Y = 0, DY = 1, t = p.row_temporary_slot(0);
  // dx = dy - exp(y) * sum(dy).
  p.ops = {reduce_op(t, DY, R::Sum), unary_op(Y, Y, U::Exp), col_b(binary_op(Y, Y, t, F::Mul)), binary_op(DY, DY, Y, F::Sub)};
  require_rows_fit(Kernel::LogSoftmaxBackward, p, y.dtype);
  l.output(p, DY, dx);
  l.run(p);
}

void ChipBackend::layer_norm(const View& x, const View& weight, const View& bias, const View& y, const View& mean,
                             const View& rstd, float eps) {
  Plan p = shape_plan(x.shape, true);  // (rows, C)
  if (p.rows == 0) return;
  Launch l(*this, Kernel::LayerNorm);
  p.inputs = {l.input(x, Layout::Full), l.input(weight, Layout::Row), l.input(bias, Layout::Row)};
  p.constants = {static_cast<float>(p.cols), eps};
  p.temporaries = 1, p.row_temporaries = 2;
  int X = 0, W = 1, B = 2, C = p.constant_slot(0), EPS = C + 1, sq = p.temporary_slot(0), t0 = p.row_temporary_slot(0),
      t1 = t0 + 1;
  // t0: the row's mean; sq: the squared deviations; t1: rstd = 1 / sqrt(var + eps).
  p.ops = {reduce_op(t0, X, R::Sum),           per_row(binary_op(t0, t0, C, F::Div)),  col_b(binary_op(X, X, t0, F::Sub)),
           binary_op(sq, X, X, F::Mul),        reduce_op(t1, sq, R::Sum),              per_row(binary_op(t1, t1, C, F::Div)),
           per_row(binary_op(t1, t1, EPS, F::Add)), per_row(unary_op(t1, t1, U::Sqrt)), per_row(unary_op(t1, t1, U::Recip)),
           col_b(binary_op(X, X, t1, F::Mul)), binary_op(X, X, W, F::Mul),             binary_op(X, X, B, F::Add)};
  require_rows_fit(Kernel::LayerNorm, p, x.dtype);
  l.output(p, X, y);
  l.row_output(p, t0, mean);
  l.row_output(p, t1, rstd);
  l.run(p);
}

void ChipBackend::layer_norm_backward(const View& dy, const View& x, const View& weight, const View& mean,
                                      const View& rstd, const View& dx, const View& dweight, const View& dbias) {
  Plan p = shape_plan(x.shape, true);  // (rows, C)
  if (p.rows == 0) return;
  TS_ASSERT(dweight.dtype == dbias.dtype);
  Launch l(*this, Kernel::LayerNormBackward);
  int64_t rows = p.rows, channels = p.cols;
  p.inputs = {l.input(dy, Layout::Full), l.input(x, Layout::Full), l.input(weight, Layout::Row),
              l.input(mean, Layout::Col), l.input(rstd, Layout::Col)};
  p.constants = {static_cast<float>(channels)};
  p.temporaries = 3;
  int DY = 0, X = 1, W = 2, MEAN = 3, RSTD = 4, C = p.constant_slot(0), t0 = p.temporary_slot(0), t1 = t0 + 1,
      t2 = t0 + 2;
  // xhat = (x - mean) rstd, dxhat = dy w (t0);
  // dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)); t2 = dy xhat for the weight gradient.
  p.ops = {binary_op(X, X, MEAN, F::Sub),   binary_op(X, X, RSTD, F::Mul),         binary_op(t2, DY, X, F::Mul),
           binary_op(t0, DY, W, F::Mul),    binary_op(t1, t0, X, F::Mul),          reduce_op(t1, t1, R::Sum),
           per_row(binary_op(t1, t1, C, F::Div)), col_b(binary_op(X, X, t1, F::Mul)), reduce_op(t1, t0, R::Sum),
           per_row(binary_op(t1, t1, C, F::Div)), col_b(binary_op(t0, t0, t1, F::Sub)), binary_op(t0, t0, X, F::Sub),
           binary_op(t0, t0, RSTD, F::Mul)};
  require_rows_fit(Kernel::LayerNormBackward, p, x.dtype);
  l.output(p, t0, dx);
  // (2, rows, C): dy * xhat, then dy (f32), whose column sums the second program adds into
  // dweight and dbias.
  int64_t products = l.place(2 * rows * channels * 4);
  p.outputs.push_back({t2, products, DType::F32});
  p.outputs.push_back({DY, products + rows * channels * 4, DType::F32});
  l.run(p);

  const View grads[] = {dweight, dbias};
  add_column_sums(l, products, rows, channels, grads);
}

void ChipBackend::sgd_momentum(const View& param, const View& grad, const View& velocity, float lr, float momentum,
                               float weight_decay) {
  int64_t n = param.numel();
  if (n == 0) return;
  Launch l(*this, Kernel::SgdMomentum);
  Plan p;
  p.rows = 1, p.cols = n;  // one row: the pass cuts it into column tiles
  // Param and velocity updated where they lie (each tile stored after its loads).
  p.inputs = {{l.update(param, param.dtype), Layout::Full, 0, param.dtype}, l.input(grad, Layout::Full),
              {l.update(velocity, velocity.dtype), Layout::Full, 0, velocity.dtype}};
  p.constants = {momentum, weight_decay, lr};
  p.temporaries = 2;
  int P = 0, G = 1, V = 2, MOM = p.constant_slot(0), WD = MOM + 1, LR = MOM + 2, t0 = p.temporary_slot(0),
      t1 = t0 + 1;
  // velocity = (momentum velocity + grad) + wd param; param -= lr velocity.
  p.ops = {binary_op(t0, V, MOM, F::Mul), binary_op(t0, t0, G, F::Add), binary_op(t1, P, WD, F::Mul),
           binary_op(V, t0, t1, F::Add),  binary_op(t1, V, LR, F::Mul), binary_op(P, P, t1, F::Sub)};
  add_output(p, P, p.inputs[P].hbm_addr, param.dtype);
  add_output(p, V, p.inputs[V].hbm_addr, velocity.dtype);
  l.run(p);
}

void ChipBackend::scatter_along(const View& values, const View& indices, const View& out, int64_t outer, int64_t n,
                                int64_t inner) {
  if (outer * n * inner == 0) return;
  TS_ASSERT(values.dtype == out.dtype);
  Launch l(*this, Kernel::ScatterAlong);
  compiler::ScatterAlongTiling tiling = compiler::scatter_along_tiling(chip(), outer, n, inner, out.dtype);
  // Each target's position in its job's table (the layout of the index operand).
  std::vector<int32_t> positions(static_cast<size_t>(outer * inner));
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      int64_t j = load_index(indices, o * inner + i);
      TS_ASSERT(j >= 0 && j < n);
      positions[o * inner + i] = compiler::scatter_along_position(tiling, n, inner, o, j, i);
    }
  int64_t values_addr = l.input(values, Layout::Full).hbm_addr;
  int64_t positions_addr = l.stage(positions.data(), outer * inner * 4);
  int64_t result = l.result(out, out.dtype);
  l.run(programs_.program(chip(), "scatter_along",
                          compiler::scatter_along_key(tiling, outer, n, inner, out.dtype, values_addr, positions_addr,
                                                      result),
                          [&] {
                            return compiler::scatter_along_program(chip(), tiling, outer, n, inner, out.dtype,
                                                                   values_addr, positions_addr, result);
                          }));
}

double ChipBackend::sum_squares(const View& x) {
  int64_t n = x.numel();
  if (n == 0) return 0.0;
  Launch l(*this, Kernel::SumSquares);
  compiler::SumSquaresSegment segment{l.input(x, Layout::Full).hbm_addr, x.dtype, n};
  int64_t partials = l.place(compiler::sum_squares_partials_bytes(chip())), result = l.place(8);
  l.run(programs_.program(chip(), "sum_squares", compiler::sum_squares_key({&segment, 1}, partials, result),
                          [&] { return compiler::sum_squares_program(chip(), {&segment, 1}, partials, result); }));
  float hi_lo[2];
  l.fetch(hi_lo, result, 8);
  return static_cast<double>(hi_lo[0]) + static_cast<double>(hi_lo[1]);
}

}  // namespace tessera
