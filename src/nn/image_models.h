// The Fashion-MNIST models: an MLP (784-512-256-10, ReLU) and a small CNN
// (2 x conv3x3-ReLU-maxpool2 + linear). Parameter names match tools/torch_models.py.
#pragma once
#include "nn/layers.h"
#include "nn/model.h"

namespace tessera {

class Mlp : public Model {
 public:
  explicit Mlp(const ModelOptions& options);
  Tensor forward(const Tensor& images) override;  // (N, 1, 28, 28) or (N, 784) -> (N, 10)
  InputKind input_kind() const override { return InputKind::Images; }
  std::string describe() const override;
  double forward_flops_per_example() const override;

 private:
  Linear *fc1_, *fc2_, *fc3_;
};

class Cnn : public Model {
 public:
  explicit Cnn(const ModelOptions& options);
  Tensor forward(const Tensor& images) override;  // (N, 1, 28, 28) -> (N, 10)
  InputKind input_kind() const override { return InputKind::Images; }
  std::string describe() const override;
  double forward_flops_per_example() const override;

 private:
  Conv2d *conv1_, *conv2_;
  Linear* fc_;
};

}  // namespace tessera
