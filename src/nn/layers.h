// The basic layers: Linear, LayerNorm, Embedding, Dropout and Conv2d.
#pragma once
#include "nn/module.h"
#include "tensor/ops.h"

namespace tessera {

// Where a layer's parameters live and how they are initialised.
struct InitContext {
  Generator& gen;
  std::string device = "cpu";
};

// y = x W^T + b. PyTorch layout: weight (out, in). GPT-2 checkpoints store (in, out): choose
// Layout::InOut for them. Default initialisation is PyTorch's U(-1/sqrt(in), 1/sqrt(in)).
class Linear : public Module {
 public:
  enum class Layout { OutIn, InOut };
  Linear(int64_t in, int64_t out, bool bias, InitContext init, Layout layout = Layout::OutIn);
  Tensor forward(const Tensor& x) const;  // (..., in) -> (..., out)
  // gelu(forward(x)), the bias add fused into the GELU (bias_gelu).
  Tensor forward_gelu(const Tensor& x) const;
  Tensor weight, bias;

 private:
  Tensor product(const Tensor& x) const;  // x W^T, no bias
  Layout layout_;
};

class LayerNorm : public Module {
 public:
  LayerNorm(int64_t channels, InitContext init, float eps = 1e-5f);
  Tensor forward(const Tensor& x) const;  // over the last dimension
  // {x + r, forward(x + r)} in one pass (add_layer_norm), in f32 as forward.
  AddLayerNorm forward_add(const Tensor& x, const Tensor& r) const;
  Tensor weight, bias;

 private:
  float eps_;
};

class Embedding : public Module {
 public:
  Embedding(int64_t vocab, int64_t channels, InitContext init, float std = 1.0f);
  Tensor forward(const Tensor& ids) const;  // (...) -> (..., C)
  Tensor weight;  // (V, C)
};

class Dropout : public Module {
 public:
  Dropout(float p, Generator& gen) : p_(p), gen_(gen) {}
  Tensor forward(const Tensor& x) const { return dropout(x, p_, gen_, training()); }

 private:
  float p_;
  Generator& gen_;
};

class Conv2d : public Module {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel, int64_t stride,
         int64_t padding, InitContext init);
  Tensor forward(const Tensor& x) const;  // (N, C, H, W) -> (N, O, OH, OW)
  Tensor weight, bias;

 private:
  int64_t stride_, padding_;
};

}  // namespace tessera
