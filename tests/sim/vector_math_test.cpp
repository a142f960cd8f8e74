// The Vector engine's exp and gelu: the vectorised loops give exactly the scalar definitions'
// bits (every length, so every masked tail), exp is within 2 ulps of e^x over the whole f32
// range that does not overflow, and the edges (overflow, underflow to subnormals and zero,
// infinities, NaN) are e^x's.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <vector>

#include "base/random.h"
#include "sim/vector_math.h"

namespace tessera::sim {
namespace {

// Every 997th f32 bit pattern's value (all signs and exponents, NaNs included).
std::vector<float> sweep() {
  std::vector<float> x;
  for (uint64_t bits = 0; bits <= 0xffffffffull; bits += 997)
    x.push_back(std::bit_cast<float>(static_cast<uint32_t>(bits)));
  return x;
}

// Distance in units in the last place of f32 at `want`.
double ulps(float got, double want) {
  double ulp = std::ldexp(1.0, std::max(std::ilogb(want), -126) - 23);
  return std::fabs(got - want) / ulp;
}

TEST(VectorMath, LoopsGiveTheScalarDefinitionsBits) {
  std::vector<float> x = sweep();
  using Loop = void (*)(const float*, float*, int64_t);
  using Scalar = float (*)(float);
  for (auto [loop, scalar] :
       {std::pair<Loop, Scalar>{exp_f32, exp_scalar}, std::pair<Loop, Scalar>{gelu_f32, gelu_scalar}}) {
    for (int64_t n : {int64_t{1}, int64_t{15}, int64_t{17}, static_cast<int64_t>(x.size())}) {
      std::vector<float> out(static_cast<size_t>(n));
      loop(x.data(), out.data(), n);
      for (int64_t i = 0; i < n; ++i)
        ASSERT_EQ(std::bit_cast<uint32_t>(out[i]), std::bit_cast<uint32_t>(scalar(x[i]))) << "x = " << x[i];
    }
  }
}

TEST(VectorMath, ExpIsWithinTwoUlps) {
  double worst = 0;
  for (float v : sweep()) {
    if (!(v > -103.0f && v < 88.7f)) continue;
    worst = std::max(worst, ulps(exp_scalar(v), std::exp(static_cast<double>(v))));
  }
  EXPECT_LE(worst, 2.0);
  EXPECT_GT(worst, 0.0);  // a float result is not e^x exactly
}

TEST(VectorMath, ExpEdges) {
  constexpr float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(exp_scalar(0.0f), 1.0f);
  EXPECT_EQ(exp_scalar(89.0f), inf);
  EXPECT_EQ(exp_scalar(inf), inf);
  EXPECT_EQ(exp_scalar(-inf), 0.0f);
  EXPECT_EQ(exp_scalar(-105.0f), 0.0f);
  float subnormal = exp_scalar(-100.0f);  // 3.7e-44: a subnormal, rounded once
  EXPECT_GT(subnormal, 0.0f);
  EXPECT_LT(subnormal, std::numeric_limits<float>::min());
  EXPECT_NEAR(subnormal, std::exp(-100.0), std::ldexp(1.0, -149));
  EXPECT_TRUE(std::isnan(exp_scalar(std::nanf(""))));
}

TEST(VectorMath, GeluIsTheTanhForm) {
  double worst = 0;
  for (uint64_t i = 0; i < 100000; ++i) {
    float x = 6.0f * (2.0f * random_uniform(3, i) - 1.0f);
    // 0.5 x (1 + tanh(y)) = x / (1 + e^(-2y)), in double; the first form cancels for x << 0.
    double xd = x, y = std::sqrt(2 / M_PI) * (xd + 0.044715 * xd * xd * xd), want = xd / (1 + std::exp(-2 * y));
    EXPECT_NEAR(0.5 * xd * (1 + std::tanh(y)), want, 1e-12);
    if (want == 0) continue;
    worst = std::max(worst, std::fabs(gelu_scalar(x) - want) / std::fabs(want));
  }
  // Relative: a few ulps; for x < 0 also the f32 rounding of y, magnified by |2y| (up to 17).
  EXPECT_LT(worst, 4e-6);
  EXPECT_EQ(gelu_scalar(0.0f), 0.0f);
  EXPECT_EQ(gelu_scalar(std::numeric_limits<float>::infinity()), std::numeric_limits<float>::infinity());
  EXPECT_EQ(gelu_scalar(-50.0f), 0.0f);
}

}  // namespace
}  // namespace tessera::sim
