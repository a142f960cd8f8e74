// The chip backend's convolution and pooling kernels (see chip_backend.h): conv2d and its
// backward pass as implicit GEMM on the matrix engine (compiler/conv_program.h), max pooling and
// its backward pass on the vector engine (compiler/pool_program.h). Operands are staged as they
// are (f32 or bf16, packed row-major); gather indices that depend only on the shape are staged
// with them.
#include <algorithm>

#include "backends/chip/chip_backend.h"
#include "backends/chip/chip_launch.h"
#include "base/error.h"
#include "compiler/conv_program.h"
#include "compiler/pool_program.h"

namespace tessera {

namespace {

compiler::ConvGeometry conv_geometry(const View& x, const View& weight, const View& y, const Conv2dArgs& args) {
  TS_ASSERT(x.shape.size() == 4 && weight.shape.size() == 4 && y.shape.size() == 4);
  compiler::ConvGeometry g;
  g.batch = x.shape[0], g.channels = x.shape[1], g.height = x.shape[2], g.width = x.shape[3];
  g.out_channels = weight.shape[0], g.kernel_h = weight.shape[2], g.kernel_w = weight.shape[3];
  g.out_height = y.shape[2], g.out_width = y.shape[3], g.stride = args.stride, g.padding = args.padding;
  return g;
}

}  // namespace

void ChipBackend::conv2d(const View& x, const View& weight, const View& bias, const View& y, const Conv2dArgs& args) {
  if (y.numel() == 0) return;
  TS_ASSERT(weight.dtype == x.dtype && y.dtype == x.dtype);
  compiler::ConvGeometry g = conv_geometry(x, weight, y, args);
  compiler::ConvTiling tiling = compiler::conv_forward_tiling(chip(), g, x.dtype);
  std::vector<int32_t> indices = compiler::im2col_indices(g, tiling.block);
  Launch l(*this, Kernel::Conv2d);
  compiler::ConvForward c;
  c.g = g, c.dtype = x.dtype;
  c.x = l.stage_as(x, x.dtype);
  c.weight = l.stage_as(weight, weight.dtype);
  if (bias.data) c.bias = l.stage_f32(bias);
  c.indices = l.stage(indices.data(), static_cast<int64_t>(indices.size() * 4));
  c.y = l.result(y, y.dtype);
  l.run(programs_.program(chip(), "conv_forward", compiler::conv_forward_key(c, tiling),
                          [&] { return compiler::conv_forward_program(chip(), c, tiling); }));
}

void ChipBackend::conv2d_backward(const View& x, const View& weight, const View& dy, const View& dx,
                                  const View& dweight, const View& dbias, const Conv2dArgs& args) {
  if (x.numel() == 0) return;
  TS_ASSERT(weight.dtype == x.dtype && dy.dtype == x.dtype && dx.dtype == x.dtype && dweight.dtype == x.dtype);
  compiler::ConvGeometry g = conv_geometry(x, weight, dy, args);
  compiler::ConvTiling tiling = compiler::conv_backward_tiling(chip(), g, x.dtype);
  std::vector<int32_t> indices = compiler::im2col_indices(g, tiling.block);
  int64_t O = g.out_channels, K = g.k(), L = O * K + O;
  Launch l(*this, Kernel::Conv2dBackward);
  compiler::ConvBackward c;
  c.g = g, c.dtype = x.dtype;
  c.x = l.stage_as(x, x.dtype);
  c.weight = l.stage_as(weight, weight.dtype);
  c.dy = l.stage_as(dy, dy.dtype);
  c.indices = l.stage(indices.data(), static_cast<int64_t>(indices.size() * 4));
  // The gradient rows (1 + cores, O*K + O): row 0 holds the old dweight and dbias, which the sums add to.
  int64_t rows = 1 + compiler::conv_backward_cores(chip(), g);
  std::vector<float> grads(static_cast<size_t>(rows * L), 0.0f);
  std::vector<float> old_dweight = load_all(dweight);
  std::copy(old_dweight.begin(), old_dweight.end(), grads.begin());
  if (dbias.data) {
    std::vector<float> old_dbias = load_all(dbias);
    std::copy(old_dbias.begin(), old_dbias.end(), grads.begin() + O * K);
  }
  c.grads = l.stage(grads.data(), rows * L * 4);
  auto es = static_cast<int64_t>(dtype_size(x.dtype));
  c.dx = l.result(dx, dx.dtype);
  c.sums = l.place(L * es);  // (O*K + O): dweight, then dbias
  l.run(programs_.program(chip(), "conv_backward", compiler::conv_backward_key(c, tiling),
                          [&] { return compiler::conv_backward_program(chip(), c, tiling); }));
  l.fetch_as(dweight, c.sums, dweight.dtype);
  if (dbias.data) l.fetch_as(dbias, c.sums + O * K * es, dbias.dtype);
}

namespace {

compiler::PoolGeometry pool_geometry(const View& x, const View& y, int64_t kernel, int64_t stride) {
  TS_ASSERT(x.shape.size() == 4 && y.shape.size() == 4);
  compiler::PoolGeometry g;
  g.planes = x.shape[0] * x.shape[1], g.height = x.shape[2], g.width = x.shape[3];
  g.kernel = kernel, g.stride = stride, g.out_height = y.shape[2], g.out_width = y.shape[3];
  return g;
}

}  // namespace

void ChipBackend::max_pool2d(const View& x, const View& y, const View& indices, int64_t kernel, int64_t stride) {
  if (y.numel() == 0) return;
  TS_ASSERT(y.dtype == x.dtype && indices.dtype == DType::I64);
  compiler::PoolForward p;
  p.g = pool_geometry(x, y, kernel, stride), p.dtype = x.dtype;
  std::vector<int32_t> positions = compiler::pool_window_positions(p.g);
  std::vector<float> positions_f32(positions.begin(), positions.end());
  auto bytes = static_cast<int64_t>(positions.size() * 4);
  Launch l(*this, Kernel::MaxPool2d);
  p.x = l.stage_as(x, x.dtype);
  p.positions = l.stage(positions.data(), bytes);
  p.positions_f32 = l.stage(positions_f32.data(), bytes);
  p.y = l.result(y, y.dtype);
  p.indices = l.result(indices, indices.dtype);
  l.run(programs_.program(chip(), "max_pool", compiler::max_pool_key(p),
                          [&] { return compiler::max_pool_program(chip(), p); }));
}

void ChipBackend::max_pool2d_backward(const View& dy, const View& indices, const View& dx) {
  if (dx.numel() == 0) return;
  TS_ASSERT(dy.dtype == dx.dtype && indices.dtype == DType::I64 && dx.shape.size() == 4);
  compiler::PoolBackward p;
  p.g.planes = dx.shape[0] * dx.shape[1], p.g.height = dx.shape[2], p.g.width = dx.shape[3];
  p.g.out_height = 1, p.g.out_width = dy.numel() / p.g.planes;  // only the positions per plane matter
  p.dtype = dx.dtype;
  Launch l(*this, Kernel::MaxPool2dBackward);
  p.dy = l.stage_as(dy, dy.dtype);
  p.indices = l.stage_as(indices, indices.dtype);
  p.dx = l.result(dx, dx.dtype);
  l.run(programs_.program(chip(), "max_pool_backward", compiler::max_pool_backward_key(p),
                          [&] { return compiler::max_pool_backward_program(chip(), p); }));
}

}  // namespace tessera
