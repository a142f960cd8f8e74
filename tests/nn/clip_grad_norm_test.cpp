// Gradient clipping (nn/optimizer.h) through the multi-tensor kernels: on cpu-ref, cpu and the
// chip the clipped gradients are bit for bit scale(gradient, factor), the per-tensor path that
// clipping took before; the norm is the per-tensor sums' within 1e-12; a parameter without a
// gradient keeps none; and on the chip the whole clip is two launches (one without clipping).
#include <gtest/gtest.h>

#include <bit>
#include <cmath>

#include "backends/chip/chip_backend.h"
#include "common/backend_test_name.h"
#include "nn/optimizer.h"
#include "tensor/ops.h"

namespace tessera {
namespace {

const std::vector<Shape> kShapes = {{64, 33}, {33}, {5000}, {1}, {7, 9}};

// Parameters of kShapes on `device`, each but the second-last with a seeded gradient.
std::vector<Tensor> params_with_grads(const std::string& device) {
  std::vector<Tensor> params;
  Generator gen{11, 0};
  for (size_t i = 0; i < kShapes.size(); ++i) {
    Tensor p = Tensor::zeros(kShapes[i], DType::F32, device);
    p.set_requires_grad(true);
    if (i + 2 != kShapes.size()) p.set_grad(Tensor::randn(kShapes[i], gen, 0.5f, DType::F32, device));
    params.push_back(p);
  }
  return params;
}

std::vector<uint32_t> bits(const Tensor& t) {
  std::vector<uint32_t> out;
  for (float v : t.to_floats()) out.push_back(std::bit_cast<uint32_t>(v));
  return out;
}

class ClipGradNorm : public ::testing::TestWithParam<std::string> {};

TEST_P(ClipGradNorm, ScalesEveryGradientAsScaleDoes) {
  std::vector<Tensor> params = params_with_grads(GetParam());
  double singles = 0;
  std::vector<Tensor> grads;
  for (const Tensor& p : params) {
    grads.push_back(p.grad());
    if (p.grad().defined()) singles += p.grad().backend().sum_squares(p.grad().view());
  }
  double norm = clip_grad_norm(params, 1.0);
  EXPECT_NEAR(norm, std::sqrt(singles), 1e-12 * std::sqrt(singles));
  ASSERT_GT(norm, 1.0);
  auto factor = static_cast<float>(1.0 / (norm + 1e-6));
  for (size_t i = 0; i < params.size(); ++i) {
    if (!grads[i].defined()) {
      EXPECT_FALSE(params[i].grad().defined()) << "parameter " << i;
      continue;
    }
    EXPECT_EQ(bits(params[i].grad()), bits(scale(grads[i], factor))) << "parameter " << i;
  }
  EXPECT_NEAR(grad_norm(params), 1.0, 1e-5);
}

TEST_P(ClipGradNorm, LeavesGradientsBelowTheBoundAlone) {
  std::vector<Tensor> params = params_with_grads(GetParam());
  std::vector<std::vector<uint32_t>> before;
  for (const Tensor& p : params) before.push_back(p.grad().defined() ? bits(p.grad()) : std::vector<uint32_t>{});
  double norm = clip_grad_norm(params, 1e6);
  EXPECT_GT(norm, 1.0);
  for (size_t i = 0; i < params.size(); ++i)
    if (params[i].grad().defined()) {
      EXPECT_EQ(bits(params[i].grad()), before[i]) << "parameter " << i;
    }
}

INSTANTIATE_TEST_SUITE_P(Devices, ClipGradNorm, ::testing::Values("cpu-ref", "cpu", "chip:t1"),
                         testing::backend_test_name);

TEST(ClipGradNormOnChip, IsTwoLaunchesForAllGradients) {
  ChipBackend& chip = *chip_backend("chip:t1");
  std::vector<Tensor> params = params_with_grads("chip:t1");
  int64_t before = chip.totals().launches;
  clip_grad_norm(params, 1.0);  // clips: the norm, then the scale
  EXPECT_EQ(chip.totals().launches - before, 2);
  before = chip.totals().launches;
  clip_grad_norm(params, 1e6);  // below the bound: the norm only
  EXPECT_EQ(chip.totals().launches - before, 1);
}

}  // namespace
}  // namespace tessera
