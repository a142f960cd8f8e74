// The Fashion-MNIST MLP on a chip backend: forward and backward match the CPU within bf16
// tolerances and take simulated time; training steps (cross-entropy, backward, AdamW) run in
// strict mode, with no kernel falling back, and lower the loss as on the CPU; strict mode
// refuses a kernel the chip lacks (softmax in f16), naming it, the device and the dtype.
#include <gtest/gtest.h>

#include <cmath>

#include "backends/chip/chip_backend.h"
#include "base/error.h"
#include "nn/autocast.h"
#include "nn/model.h"
#include "nn/optimizer.h"
#include "tensor/dispatch.h"
#include "tensor/ops.h"

namespace tessera {
namespace {

struct Step {
  float loss;
  std::vector<std::vector<float>> grads;
};

Step mlp_step(const std::string& device) {
  ModelOptions options;
  options.device = device;
  std::unique_ptr<Model> model = create_model("mlp", options);
  Generator gen{7, 0};
  Tensor images = Tensor::uniform({32, 1, 28, 28}, gen, 0.0f, 1.0f, DType::F32, device);
  // One class for the whole batch: the gradients of a fresh model then add up across the
  // batch instead of cancelling to near zero, where bf16 rounding would dominate them.
  std::vector<int64_t> labels(32, 3);
  Tensor loss = cross_entropy(model->forward(images), Tensor::from_ints(labels, {32}, DType::I64, device));
  loss.backward();
  Step step{loss.to_floats()[0], {}};
  for (const Tensor& p : model->parameters()) step.grads.push_back(p.grad().to_floats());
  return step;
}

TEST(ChipMlpTest, ForwardAndBackwardMatchTheCpuAndTakeSimulatedTime) {
  set_strict_dispatch(false);
  ChipBackend& chip = *chip_backend("chip:t1");
  chip.reset_totals();
  Step on_chip = mlp_step("chip:t1"), on_cpu = mlp_step("cpu");
  // Matmul inputs are rounded to bf16 (8 significant bits) on the chip.
  EXPECT_NEAR(on_chip.loss, on_cpu.loss, 2e-2 * std::fabs(on_cpu.loss));
  ASSERT_EQ(on_chip.grads.size(), on_cpu.grads.size());
  for (size_t p = 0; p < on_cpu.grads.size(); ++p) {
    double max_ref = 0, max_diff = 0;
    for (size_t i = 0; i < on_cpu.grads[p].size(); ++i) {
      max_ref = std::max(max_ref, std::fabs(double(on_cpu.grads[p][i])));
      max_diff = std::max(max_diff, std::fabs(double(on_chip.grads[p][i]) - on_cpu.grads[p][i]));
    }
    // bf16 inputs (2^-9 relative rounding) to three matmuls in each direction, with partial
    // cancellation in dlogits @ W: a few percent of the largest gradient. A wrong transpose or
    // tile would be off by the gradient's whole size.
    EXPECT_LE(max_diff, 8e-2 * max_ref) << "parameter " << p;
    EXPECT_GT(max_ref, 0) << "parameter " << p;
  }
  ChipTotals totals = chip.totals();
  EXPECT_GT(totals.seconds, 0);
  EXPECT_GT(totals.seconds_by_kernel["matmul"], 0);
  EXPECT_GT(totals.seconds_by_kernel["unary_backward"], 0);
}

// The loss before each of `steps` AdamW updates and after the last; gradients are clipped to
// max_norm when it is positive.
std::vector<float> mlp_training_losses(const std::string& device, int steps, double max_norm = 0) {
  ModelOptions options;
  options.device = device;
  std::unique_ptr<Model> model = create_model("mlp", options);
  AdamW optimizer(model->named_parameters(), AdamWOptions{});
  Generator gen{7, 0};
  Tensor images = Tensor::uniform({32, 1, 28, 28}, gen, 0.0f, 1.0f, DType::F32, device);
  std::vector<int64_t> labels(32);
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<int64_t>(i % 10);
  Tensor targets = Tensor::from_ints(labels, {32}, DType::I64, device);
  std::vector<float> losses;
  for (int step = 0; step <= steps; ++step) {
    Tensor loss = cross_entropy(cast(model->forward(images), DType::F32), targets);  // as the trainer does
    losses.push_back(loss.to_floats()[0]);
    if (step == steps) break;
    optimizer.zero_grad();
    loss.backward();
    if (max_norm > 0) clip_grad_norm(model->parameters(), max_norm);
    optimizer.step();
  }
  return losses;
}

TEST(ChipMlpTest, StrictModeTrainsLikeTheCpu) {
  set_strict_dispatch(true);
  ChipBackend& chip = *chip_backend("chip:t1");
  chip.reset_totals();
  std::vector<float> on_chip = mlp_training_losses("chip:t1", 2);
  set_strict_dispatch(false);
  std::vector<float> on_cpu = mlp_training_losses("cpu", 2);
  ASSERT_EQ(on_chip.size(), on_cpu.size());
  for (size_t i = 0; i < on_cpu.size(); ++i)
    EXPECT_NEAR(on_chip[i], on_cpu[i], 2e-2 * std::fabs(on_cpu[i])) << "loss " << i;
  EXPECT_LT(on_cpu.back(), on_cpu.front() - 0.05f);  // the steps do lower it
  EXPECT_LT(on_chip.back(), on_chip.front() - 0.05f);
  ChipTotals totals = chip.totals();
  EXPECT_GT(totals.seconds_by_kernel["adamw_many"], 0);
  EXPECT_GT(totals.seconds_by_kernel["cross_entropy"], 0);
  EXPECT_GT(totals.seconds_by_kernel["cross_entropy_backward"], 0);
}

TEST(ChipMlpTest, StrictModeTrainsInBf16AutocastWithClipping) {
  // What `tessera train --precision bf16` runs: bf16 activations (bias adds, relu and their
  // gradients, bias-gradient sums in bf16) and the gradient norm for clipping, all on the chip.
  ChipBackend& chip = *chip_backend("chip:t1");
  chip.reset_totals();
  std::vector<float> on_chip, on_cpu;
  {
    AutocastGuard bf16(DType::BF16);
    set_strict_dispatch(true);
    on_chip = mlp_training_losses("chip:t1", 2, 1.0);
    set_strict_dispatch(false);
    on_cpu = mlp_training_losses("cpu", 2, 1.0);
  }
  ASSERT_EQ(on_chip.size(), on_cpu.size());
  for (size_t i = 0; i < on_cpu.size(); ++i)
    EXPECT_NEAR(on_chip[i], on_cpu[i], 2e-2 * std::fabs(on_cpu[i])) << "loss " << i;
  EXPECT_LT(on_chip.back(), on_chip.front() - 0.05f);
  ChipTotals totals = chip.totals();
  // The norm of all gradients in one multi-tensor launch, none per gradient.
  EXPECT_GT(totals.seconds_by_kernel["sum_squares_many"], 0);
  EXPECT_EQ(totals.seconds_by_kernel.count("sum_squares"), 0u);
  EXPECT_GT(totals.seconds_by_kernel["unary_backward"], 0);
}

TEST(ChipMlpTest, StrictModeRefusesAKernelTheChipLacks) {
  set_strict_dispatch(true);
  try {
    Tensor scores = Tensor::from_floats({0.5f, 2.0f, -1.0f, 3.0f}, {2, 2}, DType::F16, "chip:t1");
    softmax(scores);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("is not supported on device 'chip:t1'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("kernel 'softmax'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("for dtype f16"), std::string::npos) << e.what();
  }
  set_strict_dispatch(false);
}

}  // namespace
}  // namespace tessera
