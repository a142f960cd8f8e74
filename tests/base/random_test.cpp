// The counter-based generator: reproducible draws and the moments of its distributions.
// Bounds are five standard errors of the estimated statistic for N draws.
#include "base/random.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

namespace tessera {
namespace {

constexpr uint64_t kDraws = 1'000'000;

TEST(Random, SameSeedAndCounterGiveTheSameValue) {
  EXPECT_EQ(random_bits(42, 7), random_bits(42, 7));
  EXPECT_EQ(random_uniform(42, 7), random_uniform(42, 7));
  EXPECT_EQ(random_normal(42, 7), random_normal(42, 7));
  EXPECT_NE(random_bits(42, 7), random_bits(43, 7));
  EXPECT_NE(random_bits(42, 7), random_bits(42, 8));
  // Nearby seeds and counters give distinct streams.
  std::set<uint64_t> seen;
  for (uint64_t seed = 0; seed < 64; ++seed)
    for (uint64_t counter = 0; counter < 64; ++counter) seen.insert(random_bits(seed, counter));
  EXPECT_EQ(seen.size(), 64u * 64u);
}

TEST(Random, GeneratorReservesConsecutiveCounters) {
  Generator gen{5, 0};
  EXPECT_EQ(gen.take(10), 0u);
  EXPECT_EQ(gen.take(3), 10u);
  EXPECT_EQ(gen.offset, 13u);
  Generator copy = gen;  // the whole state: drawing from a copy repeats the stream
  EXPECT_EQ(random_uniform(copy.seed, copy.take(1)), random_uniform(gen.seed, gen.take(1)));
}

TEST(Random, UniformHasMeanHalfAndVarianceOneTwelfth) {
  double sum = 0, sum_sq = 0;
  for (uint64_t i = 0; i < kDraws; ++i) {
    float u = random_uniform(3, i);
    ASSERT_GE(u, 0.0f);
    ASSERT_LT(u, 1.0f);
    ASSERT_EQ(u, std::ldexp(std::floor(std::ldexp(u, 24)), -24)) << "not a multiple of 2^-24";
    sum += u;
    sum_sq += (u - 0.5) * (u - 0.5);
  }
  double mean = sum / kDraws, variance = sum_sq / kDraws;
  EXPECT_NEAR(mean, 0.5, 5 * std::sqrt(1.0 / 12 / kDraws));                         // 1.4e-3
  EXPECT_NEAR(variance, 1.0 / 12, 5 * std::sqrt((1.0 / 80 - 1.0 / 144) / kDraws));  // 3.7e-4
}

TEST(Random, NormalHasMeanZeroStdOneAndGaussianTails) {
  double sum = 0, sum_sq = 0;
  uint64_t beyond_1_96 = 0;
  for (uint64_t i = 0; i < kDraws; ++i) {
    double z = random_normal(11, i);
    ASSERT_TRUE(std::isfinite(z));
    sum += z;
    sum_sq += z * z;
    beyond_1_96 += std::fabs(z) > 1.959964;
  }
  double mean = sum / kDraws, std_dev = std::sqrt(sum_sq / kDraws);
  EXPECT_NEAR(mean, 0.0, 5 / std::sqrt(double(kDraws)));         // 5e-3
  EXPECT_NEAR(std_dev, 1.0, 5 / std::sqrt(2.0 * kDraws));        // 3.5e-3
  double tail = double(beyond_1_96) / kDraws;                    // P(|z| > 1.96) = 0.05
  EXPECT_NEAR(tail, 0.05, 5 * std::sqrt(0.05 * 0.95 / kDraws));  // 1.1e-3
}

}  // namespace
}  // namespace tessera
