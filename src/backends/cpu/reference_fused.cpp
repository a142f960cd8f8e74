// cpu-ref fused kernels: bias + GELU and residual add + layer norm, forward and backward. Each is
// the composition of cpu-ref's own unfused kernels (called as cpu-ref's even from a subclass)
// over f32 host temporaries: a fused kernel is specified as the unfused ops with their
// intermediate results kept in f32.
#include <vector>

#include "backends/cpu/reference_backend.h"
#include "base/error.h"

namespace tessera {

namespace {

// An f32 host buffer of `shape` and a contiguous View on it.
struct F32Temp {
  std::vector<float> values;
  View view;
  explicit F32Temp(const Shape& shape) : values(static_cast<size_t>(numel(shape))) {
    view = View{values.data(), DType::F32, shape, contiguous_strides(shape)};
  }
};

// bias (n) read along every row of a (rows, n) problem (a zero row stride).
View rows_of(const View& bias, const Shape& shape) {
  View b = bias;
  b.shape = shape;
  b.strides = Strides(shape.size(), 0);
  b.strides.back() = 1;
  return b;
}

}  // namespace

void ReferenceBackend::bias_gelu(const View& x, const View& bias, const View& y) {
  TS_ASSERT(!x.shape.empty() && bias.numel() == x.shape.back() && y.numel() == x.numel());
  F32Temp z(x.shape);  // x + bias
  ReferenceBackend::binary(BinaryOp::Add, x, rows_of(bias, x.shape), z.view);
  ReferenceBackend::unary(UnaryOp::Gelu, z.view, y);
}

void ReferenceBackend::bias_gelu_backward(const View& x, const View& bias, const View& dy, const View& dx,
                                          const View& dbias) {
  TS_ASSERT(!x.shape.empty() && bias.numel() == x.shape.back() && dbias.numel() == bias.numel());
  int64_t n = x.shape.back(), rows = x.numel() / std::max<int64_t>(n, 1);
  F32Temp z(x.shape), grad(x.shape);  // x + bias, dx in f32
  ReferenceBackend::binary(BinaryOp::Add, x, rows_of(bias, x.shape), z.view);
  ReferenceBackend::unary_backward(UnaryOp::Gelu, z.view, dy, grad.view);
  store_all(dx, grad.values);
  std::vector<float> old = load_all(dbias);
  std::vector<double> sums(old.begin(), old.end());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < n; ++c) sums[c] += grad.values[r * n + c];
  store_all(dbias, sums);
}

void ReferenceBackend::add_layer_norm(const View& x, const View& r, const View& weight, const View& bias,
                                      const View& s, const View& y, const View& mean, const View& rstd, float eps) {
  TS_ASSERT(r.numel() == x.numel() && s.numel() == x.numel());
  ReferenceBackend::binary(BinaryOp::Add, x, r, s);
  ReferenceBackend::layer_norm(s, weight, bias, y, mean, rstd, eps);
}

void ReferenceBackend::add_layer_norm_backward(const View& dy, const View& ds, const View& s, const View& weight,
                                               const View& mean, const View& rstd, const View& dx,
                                               const View& dweight, const View& dbias) {
  if (!ds.data) return ReferenceBackend::layer_norm_backward(dy, s, weight, mean, rstd, dx, dweight, dbias);
  TS_ASSERT(ds.numel() == s.numel());
  F32Temp grad(s.shape);  // layer norm's dx in f32
  ReferenceBackend::layer_norm_backward(dy, s, weight, mean, rstd, grad.view, dweight, dbias);
  ReferenceBackend::binary(BinaryOp::Add, grad.view, ds, dx);
}

}  // namespace tessera
