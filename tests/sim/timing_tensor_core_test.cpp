// The tensor-core model: MACs per cycle, the sustained share of that rate, tile quantisation,
// pipeline fill from the scratchpad, fp8 rate, and its errors.
#include <gtest/gtest.h>

#include "timing_test_util.h"

namespace tessera::sim {
namespace {

using namespace testing;

TEST(TensorCoreTiming, ThroughputPlusFillOfOneKStep) {
  arch::ChipSpec a100 = chip("a100");  // 1024 MACs/cycle, scratchpad 180.5 GB/s / 1.41 GHz = 128.01 B/cycle
  // 128x128x64 fp16: 1,048,576 MACs = 1024 cycles; fill (128 + 128) x 32 B / 128 B = 64.
  Interval i = alone(a100, isa::Engine::Matrix, mma_of(128, 128, 64, DType::F16));
  EXPECT_NEAR(i.compute_cycles, 1024 + 8192 / (180.5e9 / 1.41e9), 1e-9);
  EXPECT_NEAR(i.end_cycle, i.compute_cycles, 1e-9);  // a and b (32 KiB) take 256 cycles of scratchpad
  EXPECT_EQ(i.bytes[static_cast<int>(Level::Spm)], 2 * 128 * 64 * 2);
  Interval ideal = alone(a100, isa::Engine::Matrix, mma_of(128, 128, 64, DType::F16), true);
  EXPECT_NEAR(ideal.end_cycle, 1024, 1e-6);
}

TEST(TensorCoreTiming, TheSustainedRateStretchesTheMacsNotTheFill) {
  arch::ChipSpec full = chip("a100"), held = chip("a100", {"matrix.sustained_rate=0.8"});
  EXPECT_NEAR(alone(held, isa::Engine::Matrix, mma_of(128, 128, 64, DType::F16), true).end_cycle, 1024 / 0.8, 1e-6);
  double fill = alone(full, isa::Engine::Matrix, mma_of(128, 128, 64, DType::F16)).compute_cycles - 1024;
  EXPECT_NEAR(alone(held, isa::Engine::Matrix, mma_of(128, 128, 64, DType::F16)).compute_cycles, 1280 + fill, 1e-6);
  EXPECT_EQ(chip("h20").matrix.sustained_rate, 0.95);
  EXPECT_EQ(full.matrix.sustained_rate, 1);
}

TEST(TensorCoreTiming, TilesRoundUpToTheSmallestMma) {
  arch::ChipSpec a100 = chip("a100");
  auto cycles = [&](int64_t m, int64_t n, int64_t k) {
    return alone(a100, isa::Engine::Matrix, mma_of(m, n, k), true).end_cycle;
  };
  EXPECT_DOUBLE_EQ(cycles(16, 16, 16), 4);
  EXPECT_DOUBLE_EQ(cycles(17, 16, 16), 8);   // m pads to 32
  EXPECT_DOUBLE_EQ(cycles(16, 1, 16), 4);    // n pads to 16
  EXPECT_DOUBLE_EQ(cycles(16, 16, 17), 8);   // k pads to 32 (16 bf16 per MMA step)
  EXPECT_DOUBLE_EQ(cycles(16, 16, 1), 4);
}

TEST(TensorCoreTiming, Fp8RunsAtItsRateWithADeeperStep) {
  arch::ChipSpec h100 = chip("h100");  // 2048 MACs/cycle, fp8 x2, k step 32 for fp8
  EXPECT_DOUBLE_EQ(alone(h100, isa::Engine::Matrix, mma_of(128, 128, 64, DType::F8E4M3), true).end_cycle, 256);
  EXPECT_DOUBLE_EQ(alone(h100, isa::Engine::Matrix, mma_of(128, 128, 33, DType::F8E5M2), true).end_cycle, 256);
  EXPECT_DOUBLE_EQ(alone(h100, isa::Engine::Matrix, mma_of(128, 128, 64, DType::BF16), true).end_cycle, 512);
}

TEST(TensorCoreTiming, Errors) {
  arch::ChipSpec a100 = chip("a100");
  EXPECT_EQ(error_of([&] { alone(a100, isa::Engine::Matrix, mma_of(16, 16, 16, DType::F8E4M3)); }),
            "line 0: mma: chip a100 does not multiply f8e4m3 inputs (its matrix engine takes bf16, fp16)");
  EXPECT_EQ(error_of([&] { alone(a100, isa::Engine::Matrix, mma_of(16, 16, 16, DType::F32)); }),
            "line 0: mma: f32 is not a matrix input dtype (bf16, f16, f8e4m3, f8e5m2)");
  EXPECT_EQ(error_of([&] { make_engine_model("photonic", a100); }),
            "a100: no timing model named 'photonic' (known: dma, systolic, tensor_core, vector)");
}

}  // namespace
}  // namespace tessera::sim
