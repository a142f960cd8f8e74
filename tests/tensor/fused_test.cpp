// The fused ops on every backend: bias_gelu and add_layer_norm against the unfused ops they
// replace (forward and gradients), finite-difference gradient checks, dtypes and shape errors.
#include "gradcheck.h"

namespace tessera::test {
namespace {

class FusedTest : public OpTest {};

// The gradients of sum(out * projection) for every input, by autograd.
std::vector<std::vector<float>> gradients(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                                          uint64_t seed) {
  Tensor loss;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& out = outputs[i];
    Tensor r = Tensor::from_floats(normal_values(out.numel(), seed + i), out.shape(), DType::F32, out.device());
    Tensor term = sum(mul(out, r));
    loss = loss.defined() ? add(loss, term) : term;
  }
  loss.backward();
  std::vector<std::vector<float>> grads;
  for (const Tensor& x : inputs) grads.push_back(x.grad().to_floats());
  return grads;
}

std::vector<Tensor> leaves(const std::vector<Tensor>& xs) {
  std::vector<Tensor> out;
  for (const Tensor& x : xs) out.push_back(x.detach().clone().set_requires_grad(true));
  return out;
}

TEST_P(FusedTest, BiasGeluIsAddThenGelu) {
  for (const Shape& shape : {Shape{3, 5}, Shape{2, 3, 37}}) {
    int64_t n = shape.back();
    std::string what = "bias_gelu " + shape_str(shape);
    std::vector<Tensor> fused = leaves({randn(shape, 1, 2.0f), randn({n}, 2)});
    std::vector<Tensor> unfused = leaves(fused);
    Tensor y = bias_gelu(fused[0], fused[1]);
    Tensor want = gelu(add(unfused[0], unfused[1]));
    // The same f32 sum and GELU as the unfused kernels: equal up to rounding of the f32 GELU.
    expect_close(y.to_floats(), want.to_floats(), {1e-6, 1e-6}, what);
    std::vector<std::vector<float>> got = gradients({y}, fused, 3), expected = gradients({want}, unfused, 3);
    expect_close(got[0], expected[0], {1e-6, 1e-5}, what + " dx");
    expect_close(got[1], expected[1], {1e-5, 1e-5}, what + " dbias");
    gradcheck([](const std::vector<Tensor>& in) { return bias_gelu(in[0], in[1]); },
              {randn(shape, 4, 2.0f), randn({n}, 5)}, {}, what);
  }
}

TEST_P(FusedTest, AddLayerNormIsAddThenLayerNorm) {
  for (const Shape& shape : {Shape{3, 5}, Shape{2, 3, 37}}) {
    int64_t c = shape.back();
    std::string what = "add_layer_norm " + shape_str(shape);
    std::vector<Tensor> fused =
        leaves({randn(shape, 6, 2.0f), randn(shape, 7), randn({c}, 8, 0.5f), randn({c}, 9)});
    std::vector<Tensor> unfused = leaves(fused);
    AddLayerNorm out = add_layer_norm(fused[0], fused[1], fused[2], fused[3]);
    Tensor sum_want = add(unfused[0], unfused[1]);
    Tensor normed_want = layer_norm(sum_want, unfused[2], unfused[3]);
    expect_close(out.sum.to_floats(), sum_want.to_floats(), {}, what + " sum");
    expect_close(out.normed.to_floats(), normed_want.to_floats(), {1e-6, 1e-6}, what + " normed");
    // Both outputs used: the fused backward adds the sum's gradient to layer norm's.
    std::vector<std::vector<float>> got = gradients({out.sum, out.normed}, fused, 10);
    std::vector<std::vector<float>> expected = gradients({sum_want, normed_want}, unfused, 10);
    for (size_t i = 0; i < got.size(); ++i)
      expect_close(got[i], expected[i], {1e-5, 1e-5}, what + " gradient " + std::to_string(i));
  }
}

TEST_P(FusedTest, AddLayerNormGradientsByFiniteDifferences) {
  const Shape shape{2, 3, 9};
  auto inputs = [&] { return std::vector<Tensor>{randn(shape, 11), randn(shape, 12), randn({9}, 13), randn({9}, 14)}; };
  auto both = [](const std::vector<Tensor>& in) {
    AddLayerNorm out = add_layer_norm(in[0], in[1], in[2], in[3]);
    return concat({out.sum, out.normed}, 0);
  };
  gradcheck(both, inputs(), {}, "add_layer_norm, sum and normed");
  gradcheck([](const std::vector<Tensor>& in) { return add_layer_norm(in[0], in[1], in[2], in[3]).normed; },
            inputs(), {}, "add_layer_norm, normed only");
  gradcheck([](const std::vector<Tensor>& in) { return add_layer_norm(in[0], in[1], in[2], in[3]).sum; },
            inputs(), {}, "add_layer_norm, sum only");
}

TEST_P(FusedTest, MixedDTypesComputeInTheWiderOne) {
  Tensor x = randn({2, 8}, 15), bias = randn({8}, 16).to(DType::BF16);
  EXPECT_EQ(bias_gelu(x, bias).dtype(), DType::F32);
  EXPECT_EQ(bias_gelu(x.to(DType::BF16), bias).dtype(), DType::BF16);
  AddLayerNorm out = add_layer_norm(x, randn({2, 8}, 17).to(DType::BF16), randn({8}, 18), randn({8}, 19));
  EXPECT_EQ(out.sum.dtype(), DType::F32);
  EXPECT_EQ(out.normed.dtype(), DType::F32);
}

TEST_P(FusedTest, ShapeErrorsNameTheOpAndShapes) {
  EXPECT_ERROR_CONTAINS(bias_gelu(randn({2, 4}, 1), randn({3}, 2)),
                        "bias_gelu: bias (3,) must have shape (n,) for input (2, 4) of last dimension n");
  EXPECT_ERROR_CONTAINS(add_layer_norm(randn({2, 4}, 1), randn({4, 2}, 2), randn({4}, 3), randn({4}, 4)),
                        "add_layer_norm: x (2, 4) and r (4, 2) must have one shape (..., C)");
  EXPECT_ERROR_CONTAINS(add_layer_norm(randn({2, 4}, 1), randn({2, 4}, 2), randn({3}, 3), randn({4}, 4)),
                        "add_layer_norm: weight (3,) and bias (4,) must have shape (4,) for input (2, 4)");
}

INSTANTIATE_FOR_BACKENDS(FusedTest);

}  // namespace
}  // namespace tessera::test
