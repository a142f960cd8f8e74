// The Fashion-MNIST MLP and CNN (see image_models.h).
#include "nn/image_models.h"

#include <fmt/format.h>

#include "base/error.h"
#include "tensor/ops.h"

namespace tessera {

Mlp::Mlp(const ModelOptions& options) {
  Generator gen{options.seed, 0};
  InitContext init{gen, options.device};
  fc1_ = &register_module("fc1", std::make_unique<Linear>(784, 512, true, init));
  fc2_ = &register_module("fc2", std::make_unique<Linear>(512, 256, true, init));
  fc3_ = &register_module("fc3", std::make_unique<Linear>(256, 10, true, init));
}

Tensor Mlp::forward(const Tensor& images) {
  if (images.numel() % 784 != 0 || images.dim() < 2)
    fail("mlp: input {} is not a batch of 28x28 images", shape_str(images.shape()));
  Tensor x = reshape(images, {images.size(0), 784});
  return fc3_->forward(relu(fc2_->forward(relu(fc1_->forward(x)))));
}

std::string Mlp::describe() const {
  return fmt::format("mlp: 784-512-256-10 with ReLU, {:.2f}M parameters", parameter_count() / 1e6);
}

double Mlp::forward_flops_per_example() const { return 2.0 * (784 * 512 + 512 * 256 + 256 * 10); }

Cnn::Cnn(const ModelOptions& options) {
  Generator gen{options.seed, 0};
  InitContext init{gen, options.device};
  conv1_ = &register_module("conv1", std::make_unique<Conv2d>(1, 16, 3, 1, 1, init));
  conv2_ = &register_module("conv2", std::make_unique<Conv2d>(16, 32, 3, 1, 1, init));
  fc_ = &register_module("fc", std::make_unique<Linear>(32 * 7 * 7, 10, true, init));
}

Tensor Cnn::forward(const Tensor& images) {
  if (images.numel() % 784 != 0 || images.dim() < 2)
    fail("cnn: input {} is not a batch of 28x28 images", shape_str(images.shape()));
  Tensor x = reshape(images, {images.size(0), 1, 28, 28});
  x = max_pool2d(relu(conv1_->forward(x)), 2, 2);  // (N, 16, 14, 14)
  x = max_pool2d(relu(conv2_->forward(x)), 2, 2);  // (N, 32, 7, 7)
  return fc_->forward(reshape(x, {x.size(0), 32 * 7 * 7}));
}

std::string Cnn::describe() const {
  return fmt::format("cnn: conv3x3(16)-relu-pool, conv3x3(32)-relu-pool, linear(1568-10), {:.3f}M parameters",
                     parameter_count() / 1e6);
}

double Cnn::forward_flops_per_example() const {
  return 2.0 * (28 * 28 * 16 * 9 + 14 * 14 * 32 * 16 * 9 + 1568 * 10);
}

namespace {
const ModelRegistrar kMlp("mlp", InputKind::Images, [](const ModelOptions& o) { return std::make_unique<Mlp>(o); });
const ModelRegistrar kCnn("cnn", InputKind::Images, [](const ModelOptions& o) { return std::make_unique<Cnn>(o); });
}  // namespace

}  // namespace tessera
