// The chip backend's fused kernels (see chip_backend.h): bias + GELU (f32 and bf16: bf16 tiles
// widened and results rounded by vconvert on the chip) as one elementwise pass with the bias as a
// Row input, and residual add + layer norm (f32) as one whole-row pass (as cross_entropy). The
// backward passes write their per-element gradient products to HBM in f32, and the sums over
// rows that dbias and dweight need run as reduction programs on the chip, followed by an
// elementwise pass that adds them into the accumulated gradients in their dtype.
#include "backends/chip/chip_backend.h"
#include "backends/chip/chip_plan_ops.h"
#include "base/error.h"

namespace tessera {

using namespace chip_ops;

namespace {

using Layout = Plan::Layout;
using F = isa::BinaryFn;

Plan::Op reduce_sum(int dst, int a) { return row_op(OpKind::Reduce, dst, a, 0); }

}  // namespace

void ChipBackend::add_column_sums(Staging& hbm, Kernel kernel, int64_t addr, int64_t rows, int64_t cols,
                                  const View& acc) {
  int64_t sums = hbm.place(cols * 4);
  run(kernel, compiler::reduce_program(chip(), isa::ReduceFn::Sum, addr, sums, 1, rows, cols));
  Plan p;
  p.rows = 1, p.cols = cols;
  p.inputs = {{sums, Layout::Full, 0}, stage_input(hbm, acc, Layout::Full)};
  p.ops = {binary_op(1, 1, 0, F::Add)};
  int64_t result = hbm.place(cols * static_cast<int64_t>(dtype_size(acc.dtype)));
  add_output(p, 1, result, acc.dtype);
  run(kernel, compiler::elementwise_program(chip(), p));
  fetch_as_is(acc, result);
}

void ChipBackend::bias_gelu(const View& x, const View& bias, const View& y) {
  int64_t rows, cols;
  rows_cols(x.shape, rows, cols);
  if (rows == 0) return;
  std::lock_guard lock(launch_mutex_);
  Staging hbm;
  Plan p;
  p.rows = rows, p.cols = cols;
  p.inputs = {stage_input(hbm, x, Layout::Full), stage_input(hbm, bias, Layout::Row)};
  p.ops = {binary_op(0, 0, 1, F::Add), unary_op(0, 0, isa::UnaryFn::Gelu)};
  int64_t result = hbm.place(rows * cols * static_cast<int64_t>(dtype_size(y.dtype)));
  add_output(p, 0, result, y.dtype);
  run(Kernel::BiasGelu, compiler::elementwise_program(chip(), p));
  fetch_as_is(y, result);
}

void ChipBackend::bias_gelu_backward(const View& x, const View& bias, const View& dy, const View& dx,
                                     const View& dbias) {
  int64_t rows, cols;
  rows_cols(x.shape, rows, cols);
  if (rows == 0) return;
  std::lock_guard lock(launch_mutex_);
  Staging hbm;
  Plan p;
  p.rows = rows, p.cols = cols;
  p.inputs = {stage_input(hbm, x, Layout::Full), stage_input(hbm, dy, Layout::Full),
              stage_input(hbm, bias, Layout::Row)};
  gelu_backward_ops(p);                                      // slot 0 x, slot 1 dy -> dx
  p.ops.insert(p.ops.begin(), binary_op(0, 0, 2, F::Add));  // x + bias first
  // dx in f32 for the column sums of dbias and, when narrower, rounded on the chip into a
  // temporary of its own (outputs are stored after all ops).
  int64_t grad = hbm.place(rows * cols * 4);
  p.outputs = {{1, grad, DType::F32}};
  int64_t dx_out = grad;
  if (dx.dtype != DType::F32) {
    int narrow = p.temporary_slot(p.temporaries++);
    p.ops.push_back(convert_op(narrow, 1, dx.dtype));
    dx_out = hbm.place(rows * cols * static_cast<int64_t>(dtype_size(dx.dtype)));
    p.outputs.push_back({narrow, dx_out, dx.dtype});
  }
  run(Kernel::BiasGeluBackward, compiler::elementwise_program(chip(), p));
  add_column_sums(hbm, Kernel::BiasGeluBackward, grad, rows, cols, dbias);
  fetch_as_is(dx, dx_out);
}

void ChipBackend::add_layer_norm(const View& x, const View& r, const View& weight, const View& bias, const View& s,
                                 const View& y, const View& mean, const View& rstd, float eps) {
  int64_t rows, cols;
  rows_cols(x.shape, rows, cols);
  if (rows == 0) return;
  std::lock_guard lock(launch_mutex_);
  Staging hbm;
  Plan p;
  p.rows = rows, p.cols = cols, p.whole_rows = true;
  p.inputs = {{stage_f32(hbm, x), Layout::Full, 0}, {stage_f32(hbm, r), Layout::Full, 0},
              {stage_f32(hbm, weight), Layout::Row, 0}, {stage_f32(hbm, bias), Layout::Row, 0}};
  p.constants = {1.0f / static_cast<float>(cols), eps};
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
  int64_t s_out = hbm.place(rows * cols * 4), y_out = hbm.place(rows * cols * 4);
  int64_t mean_out = hbm.place(rows * 4), rstd_out = hbm.place(rows * 4);
  p.outputs = {{S, s_out, DType::F32}, {Y, y_out, DType::F32}, {MEAN, mean_out, DType::F32, true},
               {RSTD, rstd_out, DType::F32, true}};
  run(Kernel::AddLayerNorm, compiler::elementwise_program(chip(), p));
  fetch_f32(s, s_out);
  fetch_f32(y, y_out);
  fetch_f32(mean, mean_out);
  fetch_f32(rstd, rstd_out);
}

void ChipBackend::add_layer_norm_backward(const View& dy, const View& ds, const View& s, const View& weight,
                                          const View& mean, const View& rstd, const View& dx, const View& dweight,
                                          const View& dbias) {
  int64_t rows, cols;
  rows_cols(s.shape, rows, cols);
  if (rows == 0) return;
  std::lock_guard lock(launch_mutex_);
  Staging hbm;
  Plan p;
  p.rows = rows, p.cols = cols, p.whole_rows = true;
  int64_t dy_addr = stage_f32(hbm, dy);
  p.inputs = {{dy_addr, Layout::Full, 0},           {stage_f32(hbm, s), Layout::Full, 0},
              {stage_f32(hbm, weight), Layout::Row, 0}, {stage_f32(hbm, mean), Layout::Col, 0},
              {stage_f32(hbm, rstd), Layout::Col, 0}};
  if (ds.data) p.inputs.push_back({stage_f32(hbm, ds), Layout::Full, 0});
  p.constants = {1.0f / static_cast<float>(cols)};
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
  int64_t dx_out = hbm.place(rows * cols * 4), dyxhat_out = hbm.place(rows * cols * 4);
  p.outputs = {{DXHAT, dx_out, DType::F32}, {T, dyxhat_out, DType::F32}};
  run(Kernel::AddLayerNormBackward, compiler::elementwise_program(chip(), p));
  add_column_sums(hbm, Kernel::AddLayerNormBackward, dyxhat_out, rows, cols, dweight);
  add_column_sums(hbm, Kernel::AddLayerNormBackward, dy_addr, rows, cols, dbias);
  fetch_f32(dx, dx_out);
}

}  // namespace tessera
