// The compiler's GEMM program on the functional simulator: bit-exact against the ISA's f32
// summation order (increasing k across and within k-steps) and within the f32 error bound of
// the exact product; runs are deterministic and the timing model does not change results.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <memory>

#include "base/random.h"
#include "compiler/gemm_lowering.h"
#include "sim/sim_test_util.h"

namespace tessera::sim::testing {
namespace {

using isa::Engine;

int64_t count_of(const SimResult& r, Engine e) { return r.instructions[static_cast<size_t>(e)]; }

// The compiler's bf16 GEMM (f32 output) on 4 cores of a small T1, tiles of 64x96x32 in one
// row chunk.
struct GemmRun {
  arch::ChipSpec chip = small_t1(4);
  struct {
    int64_t m = 128, n = 192, k = 160;
  } gemm;
  compiler::GemmArgs args{0x100000, 0x200000, 0x300000};
  std::unique_ptr<compiler::GemmLowering> lowering;
  std::vector<uint16_t> a, b;
  GemmRun() {
    compiler::GemmKernel kernel;
    kernel.m = gemm.m, kernel.n = gemm.n, kernel.k = gemm.k, kernel.out_dtype = DType::F32;
    compiler::GemmLowerOptions options;
    options.tiling = compiler::GemmTiling{64, 96, 32, 1};
    lowering = compiler::lower_gemm(kernel, chip, options);
    compiler::set_gemm_args(lowering->program, args);
    a.resize(static_cast<size_t>(gemm.m * gemm.k));
    b.resize(static_cast<size_t>(gemm.k * gemm.n));
    for (size_t i = 0; i < a.size(); ++i) a[i] = f32_to_bf16(random_normal(7, i));
    for (size_t i = 0; i < b.size(); ++i) b[i] = f32_to_bf16(random_normal(8, i));
  }
  std::vector<float> run(TimingModel* timing = nullptr, SimResult* result = nullptr) {
    Simulator sim(chip);
    write(sim.memory().hbm(), args.a, a);
    write(sim.memory().hbm(), args.b, b);
    SimOptions options;
    options.timing = timing;
    SimResult r = sim.run(lowering->program, options);
    if (result) *result = r;
    return read<float>(sim.memory().hbm(), args.out, static_cast<size_t>(gemm.m * gemm.n));
  }
};

TEST(GemmProgram, MatchesDoublePrecisionAndTheIsaSummationOrder) {
  GemmRun g;
  SimResult result;
  std::vector<float> c = g.run(nullptr, &result);
  EXPECT_EQ(count_of(result, Engine::Matrix), (128 / 64) * (192 / 96) * (160 / 32));
  for (int64_t i = 0; i < g.gemm.m; ++i)
    for (int64_t j = 0; j < g.gemm.n; ++j) {
      double exact = 0, magnitude = 0;
      float ordered = 0;  // the ISA's order: increasing k across and within tiles
      for (int64_t p = 0; p < g.gemm.k; ++p) {
        float x = bf16_to_f32(g.a[static_cast<size_t>(i * g.gemm.k + p)]);
        float y = bf16_to_f32(g.b[static_cast<size_t>(p * g.gemm.n + j)]);
        exact += static_cast<double>(x) * y;
        magnitude += std::fabs(static_cast<double>(x) * y);
        ordered = std::fma(x, y, ordered);
      }
      float got = c[static_cast<size_t>(i * g.gemm.n + j)];
      ASSERT_EQ(std::bit_cast<uint32_t>(got), std::bit_cast<uint32_t>(ordered)) << i << "," << j;
      // f32 summation error bound: k unit roundoffs times the sum of magnitudes.
      ASSERT_LE(std::fabs(got - exact), 1.01 * static_cast<double>(g.gemm.k) * 0x1p-24 * magnitude) << i << "," << j;
    }
}

TEST(GemmProgram, RunsAreDeterministicAndTimingDoesNotChangeResults) {
  GemmRun g;
  std::vector<float> first = g.run(), second = g.run();
  EXPECT_EQ(0, std::memcmp(first.data(), second.data(), first.size() * sizeof(float)));
  TimingModel timing(g.chip);
  SimResult timed;
  std::vector<float> with_timing = g.run(&timing, &timed);
  EXPECT_EQ(0, std::memcmp(first.data(), with_timing.data(), first.size() * sizeof(float)));
  EXPECT_GT(timed.cycles, 0);
  // The matrix work alone bounds the time from below: 4 cores share 20 mma of 64x96x32 on a
  // 64x64 array, at least ceil(96 / 64) * 32 cycles each.
  EXPECT_GT(timed.cycles, 5 * 2 * 32);
}

}  // namespace
}  // namespace tessera::sim::testing
