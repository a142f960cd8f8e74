// Gradient check by central finite differences: for an op f(inputs) -> y and a seeded random
// projection r, loss = sum(y * r). The autograd gradient of loss w.r.t. every float input is
// compared element by element with (loss(x + eps) - loss(x - eps)) / (2 eps), the losses being
// summed on the host in double. Inputs must be chosen away from points where f is not
// differentiable (relu at 0, ties of max or max-pool) by more than eps.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "op_test.h"

namespace tessera::test {

using OpFunction = std::function<Tensor(const std::vector<Tensor>&)>;

struct GradcheckOptions {
  float eps = 1e-2f;                // finite-difference step (f32 inputs)
  Tolerance tol{2e-3, 2e-2};       // autograd vs finite differences
  uint64_t projection_seed = 9001;  // seed of r
  bool grid_projection = false;     // r on the bf16 grid (bf16_grid_values) instead of normal
  // The device whose forward the finite differences take (empty: the inputs' own), for an op
  // whose forward rounds internally on the device under test.
  std::string difference_device;
};

// The options of an op on the matrix engine (OpTest::matrix_values): on a chip, eps = 2^-5 and r
// on the bf16 grid, so that the backward's products with r are exact too; elsewhere eps = 1e-2.
inline GradcheckOptions matrix_gradcheck(const std::string& device, Tolerance tol) {
  GradcheckOptions options;
  options.tol = tol;
  if (is_chip_device(device)) options.eps = kGridStep, options.grid_projection = true;
  return options;
}

// Integer inputs (ids, targets) are passed through unchanged and get no gradient.
inline void gradcheck(const OpFunction& f, const std::vector<Tensor>& inputs,
                      const GradcheckOptions& options, const std::string& what) {
  std::vector<Tensor> leaves;
  for (const Tensor& x : inputs) {
    if (!is_floating(x.dtype())) {
      leaves.push_back(x);
      continue;
    }
    ASSERT_EQ(x.dtype(), DType::F32) << what << ": gradcheck perturbs f32 inputs only";
    Tensor leaf = x.detach().clone();
    leaf.set_requires_grad(true);
    leaves.push_back(leaf);
  }

  Tensor y = f(leaves);
  auto draw = options.grid_projection ? bf16_grid_values : normal_values;
  std::vector<float> r = draw(static_cast<size_t>(y.numel()), options.projection_seed, 1.0f);
  Tensor projection = Tensor::from_floats(r, y.shape(), DType::F32, y.device());
  Tensor projected = sum(mul(y, projection));
  if (projected.requires_grad()) projected.backward();  // else every gradient is missing (zero)

  auto loss = [&](std::vector<Tensor> xs) {
    NoGradGuard no_grad;
    if (!options.difference_device.empty())
      for (Tensor& x : xs) x = x.to_device(options.difference_device);
    std::vector<float> out = f(xs).to_floats();
    double total = 0.0;
    for (size_t i = 0; i < out.size(); ++i) total += double(out[i]) * double(r[i]);
    return total;
  };

  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!is_floating(inputs[i].dtype())) continue;
    const std::string label = what + ", input " + std::to_string(i);
    Tensor grad = leaves[i].grad();
    std::vector<float> analytic(static_cast<size_t>(inputs[i].numel()), 0.0f);
    if (grad.defined()) {
      ASSERT_EQ(grad.shape(), inputs[i].shape()) << label;
      EXPECT_EQ(grad.device(), inputs[i].device()) << label;
      analytic = grad.to_floats();
    }

    std::vector<Tensor> xs;
    for (const Tensor& leaf : leaves) xs.push_back(leaf.detach());
    const std::vector<float> base = inputs[i].to_floats();
    std::vector<float> numeric(base.size());
    for (size_t j = 0; j < base.size(); ++j) {
      std::vector<float> moved = base;
      const float plus = base[j] + options.eps, minus = base[j] - options.eps;
      moved[j] = plus;
      xs[i] = Tensor::from_floats(moved, inputs[i].shape(), DType::F32, inputs[i].device());
      const double loss_plus = loss(xs);
      moved[j] = minus;
      xs[i] = Tensor::from_floats(moved, inputs[i].shape(), DType::F32, inputs[i].device());
      const double loss_minus = loss(xs);
      numeric[j] = static_cast<float>((loss_plus - loss_minus) / (double(plus) - double(minus)));
    }
    expect_close(analytic, numeric, options.tol, label + " (autograd vs finite differences)");
  }
}

}  // namespace tessera::test
