// The basic layers (see layers.h).
#include "nn/layers.h"

#include <cmath>

#include "nn/autocast.h"
#include "tensor/ops.h"

namespace tessera {

namespace {
// Casts to the autocast dtype for matrix products (identity when autocast is off).
Tensor for_matmul(const Tensor& t) {
  DType dtype = autocast_dtype();
  return dtype == DType::F32 ? t : cast(t, dtype);
}
}  // namespace

Linear::Linear(int64_t in, int64_t out, bool has_bias, InitContext init, Layout layout)
    : layout_(layout) {
  float bound = 1.0f / std::sqrt(static_cast<float>(in));
  Shape shape = layout == Layout::OutIn ? Shape{out, in} : Shape{in, out};
  weight = register_parameter("weight", Tensor::uniform(shape, init.gen, -bound, bound, DType::F32, init.device));
  if (has_bias)
    bias = register_parameter("bias", Tensor::uniform({out}, init.gen, -bound, bound, DType::F32, init.device));
}

// Under autocast the bias is cast too, so the output keeps the autocast dtype (as PyTorch's
// autocast linear does) and the backward products of this layer run in it as well.
Tensor Linear::product(const Tensor& x) const {
  return matmul(for_matmul(x), for_matmul(weight), false, layout_ == Layout::OutIn);
}

Tensor Linear::forward(const Tensor& x) const {
  Tensor y = product(x);
  return bias.defined() ? add(y, for_matmul(bias)) : y;
}

Tensor Linear::forward_gelu(const Tensor& x) const {
  Tensor y = product(x);
  return bias.defined() ? bias_gelu(y, for_matmul(bias)) : gelu(y);
}

LayerNorm::LayerNorm(int64_t channels, InitContext init, float eps) : eps_(eps) {
  weight = register_parameter("weight", Tensor::full({channels}, 1.0, DType::F32, init.device));
  bias = register_parameter("bias", Tensor::zeros({channels}, DType::F32, init.device));
}

Tensor LayerNorm::forward(const Tensor& x) const {
  return layer_norm(cast(x, DType::F32), weight, bias, eps_);
}

AddLayerNorm LayerNorm::forward_add(const Tensor& x, const Tensor& r) const {
  return add_layer_norm(cast(x, DType::F32), cast(r, DType::F32), weight, bias, eps_);
}

Embedding::Embedding(int64_t vocab, int64_t channels, InitContext init, float std) {
  weight = register_parameter("weight", Tensor::randn({vocab, channels}, init.gen, std, DType::F32, init.device));
}

Tensor Embedding::forward(const Tensor& ids) const { return embedding(ids, weight); }

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel, int64_t stride,
               int64_t padding, InitContext init)
    : stride_(stride), padding_(padding) {
  float bound = 1.0f / std::sqrt(static_cast<float>(in_channels * kernel * kernel));
  weight = register_parameter("weight", Tensor::uniform({out_channels, in_channels, kernel, kernel}, init.gen,
                                                        -bound, bound, DType::F32, init.device));
  bias = register_parameter("bias", Tensor::uniform({out_channels}, init.gen, -bound, bound, DType::F32, init.device));
}

Tensor Conv2d::forward(const Tensor& x) const {
  return conv2d(for_matmul(x), for_matmul(weight), for_matmul(bias), stride_, padding_);
}

}  // namespace tessera
