// Linear under bf16 autocast: the output is bf16 (bias included, as in PyTorch), and the
// gradients of loss = sum(y) reach the f32 parameters with the values of a by-hand product.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "base/dtype.h"
#include "nn/autocast.h"
#include "nn/layers.h"
#include "tensor/ops.h"

namespace tessera {
namespace {

float to_bf16(float v) { return bf16_to_f32(f32_to_bf16(v)); }

TEST(Autocast, Bf16LinearGivesBf16AndGradientsReachF32Parameters) {
  const int64_t batch = 6, in = 40, out = 24;
  for (const char* device : {"cpu-ref", "cpu"}) {
    SCOPED_TRACE(device);
    Generator gen{7, 0};
    Linear linear(in, out, true, InitContext{gen, device});
    Tensor x = Tensor::uniform({batch, in}, gen, -1.0f, 1.0f, DType::F32, device);
    Tensor y;
    {
      AutocastGuard guard(DType::BF16);
      y = linear.forward(x);  // (batch, out)
    }
    EXPECT_EQ(y.dtype(), DType::BF16);
    sum(cast(y, DType::F32)).backward();
    ASSERT_TRUE(linear.weight.grad().defined());
    ASSERT_TRUE(linear.bias.grad().defined());
    EXPECT_EQ(linear.weight.grad().dtype(), DType::F32);
    EXPECT_EQ(linear.bias.grad().dtype(), DType::F32);

    std::vector<float> xs = x.to_floats(), w = linear.weight.to_floats(), b = linear.bias.to_floats();
    std::vector<float> ys = y.to_floats(), dw = linear.weight.grad().to_floats(),
                       db = linear.bias.grad().to_floats();
    for (int64_t i = 0; i < batch; ++i)
      for (int64_t o = 0; o < out; ++o) {  // y = bf16(x) @ bf16(W)^T + bf16(b), rounded to bf16
        double expected = to_bf16(b[o]);
        for (int64_t k = 0; k < in; ++k) expected += double(to_bf16(xs[i * in + k])) * to_bf16(w[o * in + k]);
        EXPECT_NEAR(ys[i * out + o], expected, 1e-2 * (1.0 + std::abs(expected))) << i << ", " << o;
      }
    for (int64_t o = 0; o < out; ++o) {
      EXPECT_EQ(db[o], static_cast<float>(batch)) << o;  // d sum / d b = batch, exact in bf16
      for (int64_t k = 0; k < in; ++k) {  // d sum / d W[o, k] = sum_i bf16(x[i, k])
        double expected = 0.0;
        for (int64_t i = 0; i < batch; ++i) expected += to_bf16(xs[i * in + k]);
        EXPECT_NEAR(dw[o * in + k], expected, 1e-2 * (1.0 + std::abs(expected))) << o << ", " << k;
      }
    }
  }
}

// The fused layers under autocast behave as their unfused forms: Linear::forward_gelu gives bf16
// like gelu(forward(x)) (its x + bias stays f32 before the GELU, so values agree to bf16
// rounding), and LayerNorm::forward_add of an f32 stream and a bf16 branch gives f32 like
// forward(x + r). Gradients reach the f32 parameters in f32 with close values.
TEST(Autocast, FusedLayersKeepTheDTypesOfTheUnfusedOnes) {
  for (const char* device : {"cpu-ref", "cpu"}) {
    SCOPED_TRACE(device);
    Generator gen{9, 0};
    Linear linear(32, 48, true, InitContext{gen, device});
    LayerNorm norm(48, InitContext{gen, device});
    Tensor x = Tensor::uniform({6, 32}, gen, -1.0f, 1.0f, DType::F32, device);
    Tensor stream = Tensor::uniform({6, 48}, gen, -1.0f, 1.0f, DType::F32, device);
    auto run = [&](bool fused) {
      AutocastGuard guard(DType::BF16);
      Tensor h = fused ? linear.forward_gelu(x) : gelu(linear.forward(x));
      AddLayerNorm out = fused ? norm.forward_add(stream, h) : AddLayerNorm{add(stream, h), Tensor()};
      if (!fused) out.normed = norm.forward(out.sum);
      EXPECT_EQ(h.dtype(), DType::BF16);
      EXPECT_EQ(out.sum.dtype(), DType::F32);
      EXPECT_EQ(out.normed.dtype(), DType::F32);
      sum(mul(out.normed, out.sum)).backward();
      std::vector<std::vector<float>> results{h.to_floats(), out.normed.to_floats()};
      for (const Tensor* p : {&linear.weight, &linear.bias, &norm.weight, &norm.bias}) {
        EXPECT_EQ(p->grad().dtype(), DType::F32);
        results.push_back(p->grad().to_floats());
        p->zero_grad();
      }
      return results;
    };
    std::vector<std::vector<float>> fused = run(true), unfused = run(false);
    for (size_t i = 0; i < fused.size(); ++i) {
      ASSERT_EQ(fused[i].size(), unfused[i].size());
      double scale = 0.0;
      for (float v : unfused[i]) scale = std::max(scale, double(std::abs(v)));
      for (size_t j = 0; j < fused[i].size(); ++j)
        EXPECT_NEAR(fused[i][j], unfused[i][j], 2e-2 * scale + 1e-6) << "result " << i << " element " << j;
    }
  }
}

}  // namespace
}  // namespace tessera
