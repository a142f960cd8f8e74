// Timing-only runs of the compiler's GEMM: in ideal-bandwidth mode the program is SCALE-Sim's
// closed form; on real memories every MAC is done once, every byte of the operands moves, the
// statistics account for every cycle, an f32 output with many k-steps per tile runs, and a
// tile that fits no scratchpad is an error.
#include "compiler/gemm_timing.h"

#include <gtest/gtest.h>

#include "arch/chip_figures.h"
#include "sim/stats.h"
#include "sim/timing_test_util.h"

namespace tessera::sim {
namespace {

using namespace testing;

compiler::GemmKernel gemm(int64_t m, int64_t n, int64_t k, DType in, DType out) {
  compiler::GemmKernel g;
  g.m = m, g.n = n, g.k = k;
  g.a_dtype = g.b_dtype = in, g.out_dtype = out;
  return g;
}

TEST(GemmTiming, IdealGemmProgramIsTheClosedForm) {
  for (const char* dataflow : {"os", "ws", "is"}) {
    arch::ChipSpec spec = chip("scalesim-16x16", {std::string("matrix.dataflow=") + dataflow});
    compiler::GemmKernel kernel = gemm(200, 72, 90, DType::BF16, DType::F32);  // f32: no conversion step
    compiler::GemmTiling tiling = compiler::ideal_gemm_tiling(kernel, spec);
    EXPECT_EQ(tiling, (compiler::GemmTiling{200, 72, 90, 1}));
    compiler::GemmTime t = compiler::time_gemm(kernel, spec, {}, {true});
    EXPECT_EQ(t.cycles, arch::systolic_cycles({200, 72, 90}, 16, 16, spec.matrix.dataflow).cycles) << dataflow;
  }
}

TEST(GemmTiming, OnManyCoresEveryMacIsDoneOnce) {
  arch::ChipSpec t1 = small_t1(4);
  Stats stats(t1);
  SimObserver* observers[] = {&stats};
  compiler::GemmTime t = compiler::time_gemm(gemm(300, 200, 500, DType::BF16, DType::F32), t1, observers);
  EXPECT_EQ(stats.total(isa::Engine::Matrix).flops, 2.0 * 300 * 200 * 500);
  EXPECT_EQ(stats.total(isa::Engine::Vector).instructions, 0);  // f32 output: no conversion
  // Every element of a and b is read from HBM at least once, c written once.
  EXPECT_GE(stats.bytes(Level::Hbm), (300 * 500 + 500 * 200) * 2 + 300 * 200 * 4);
  // No faster than the matrix engines at peak.
  EXPECT_GT(t.cycles, 300.0 * 200 * 500 / (4 * 64 * 64));
}

TEST(GemmTiming, F32OutputWithManyKStepsPerTileRuns) {
  arch::ChipSpec t1 = chip("t1");
  compiler::GemmKernel kernel = gemm(8192, 3072, 768, DType::BF16, DType::F32);
  ASSERT_GT(kernel.k / compiler::plan_gemm_tiling(kernel, t1).k, 2);
  Stats stats(t1);
  SimObserver* observers[] = {&stats};
  double cycles = compiler::time_gemm(kernel, t1, observers).cycles;
  EXPECT_EQ(stats.total(isa::Engine::Matrix).flops, 2.0 * 8192 * 3072 * 768);
  EXPECT_GE(stats.bytes(Level::Hbm), 8192LL * 3072 * 4);  // c stored as f32
  // At least the matrix engines' time at peak, and within 25 % of the bf16-output GEMM's time.
  EXPECT_GT(cycles, 8192.0 * 3072 * 768 / (32 * 64 * 64));
  EXPECT_LT(cycles, 1.25 * compiler::time_gemm(gemm(8192, 3072, 768, DType::BF16, DType::BF16), t1).cycles);
}

TEST(GemmTiming, StatsAccountForEveryCycleAndByte) {
  arch::ChipSpec t1 = small_t1(2);
  Stats stats(t1);
  SimObserver* observers[] = {&stats};
  double cycles = compiler::time_gemm(gemm(256, 256, 1024, DType::BF16, DType::BF16), t1, observers).cycles;
  EXPECT_EQ(stats.cycles(), cycles);
  EXPECT_EQ(stats.total(isa::Engine::Matrix).flops, 2.0 * 256 * 256 * 1024);
  EXPECT_EQ(stats.total(isa::Engine::Vector).flops, 0);  // conversions only
  for (int core = 0; core < 2; ++core) {
    for (isa::Engine e : {isa::Engine::Dma, isa::Engine::Matrix, isa::Engine::Vector}) {
      const EngineStats& s = stats.engine(core, e);
      EXPECT_LE(s.compute_cycles + s.memory_wait_cycles + s.semaphore_wait_cycles, cycles + 1e-6);
    }
  }
  EXPECT_GT(stats.utilization(isa::Engine::Matrix), 0.3);
  EXPECT_LE(stats.flops_per_s(), arch::chip_figures(t1).bf16_flops_per_s);
  // C is written once to HBM (bf16); a and b are read at least once.
  EXPECT_GE(stats.bytes(Level::Hbm), 2 * (256 * 1024 * 2) + 256 * 256 * 2);
}

TEST(GemmTiming, TilesFitTheScratchpad) {
  arch::ChipSpec a100 = chip("a100");
  compiler::GemmKernel kernel = gemm(8192, 8192, 8192, DType::F16, DType::F16);
  compiler::GemmTiling t = compiler::plan_gemm_tiling(kernel, a100);
  EXPECT_LE(compiler::gemm_layout(kernel, t).bytes, a100.scratchpad_bytes);
  EXPECT_EQ(error_of([&] { compiler::time_gemm(kernel, chip("a100", {"scratchpad.size=2KiB"})); }),
            "gemm 8192x8192x8192: a f16, b f16 -> out f16 (matrix engine f16): no tile of 16x16x16 or more fits the "
            "2048 byte scratchpad of chip a100");
}

}  // namespace
}  // namespace tessera::sim
