// Run statistics: sums per engine and core, blocked time, bytes, achieved FLOP/s and
// utilisation, checked on hand-made intervals and on a timed run.
#include "sim/stats.h"

#include <gtest/gtest.h>

#include "arch/chip_figures.h"
#include "timing_test_util.h"

namespace tessera::sim {
namespace {

using namespace testing;

Interval interval(double start, double end, double compute, double flops, int64_t hbm_bytes) {
  Interval i;
  i.start_cycle = start, i.end_cycle = end, i.compute_cycles = compute, i.memory_wait_cycles = end - start - compute;
  i.flops = flops;
  i.bytes[static_cast<int>(Level::Hbm)] = hbm_bytes;
  return i;
}

TEST(Stats, SumsPerEngineAndCore) {
  arch::ChipSpec t1 = small_t1(2);  // 1.6 GHz
  Stats stats(t1);
  stats.on_instruction(issued(isa::Engine::Matrix, mma_of(64, 64, 64), 0), interval(0, 100, 80, 1e6, 0));
  stats.on_instruction(issued(isa::Engine::Matrix, mma_of(64, 64, 64), 1), interval(0, 50, 50, 1e6, 0));
  stats.on_instruction(issued(isa::Engine::Dma, dma(spm(0), hbm(0), 1, 4096, 4096, 4096), 1), interval(0, 160, 60, 0, 4096));
  stats.on_blocked(0, isa::Engine::Vector, 10, 40, false);
  stats.on_blocked(1, isa::Engine::Scalar, 100, 200, true);
  EXPECT_EQ(stats.cycles(), 200);
  EXPECT_DOUBLE_EQ(stats.seconds(), 200 / 1.6e9);
  EXPECT_EQ(stats.flops(), 2e6);
  EXPECT_DOUBLE_EQ(stats.flops_per_s(), 2e6 / (200 / 1.6e9));
  EXPECT_EQ(stats.bytes(Level::Hbm), 4096);
  EXPECT_EQ(stats.engine(0, isa::Engine::Matrix).compute_cycles, 80);
  EXPECT_EQ(stats.engine(0, isa::Engine::Matrix).memory_wait_cycles, 20);
  EXPECT_EQ(stats.engine(0, isa::Engine::Vector).semaphore_wait_cycles, 30);
  EXPECT_EQ(stats.engine(1, isa::Engine::Scalar).barrier_wait_cycles, 100);
  EXPECT_EQ(stats.total(isa::Engine::Matrix).instructions, 2);
  EXPECT_DOUBLE_EQ(stats.utilization(isa::Engine::Matrix), 130.0 / (2 * 200));
  std::string summary = stats.summary();
  EXPECT_NE(summary.find("t1: 200 cycles, 0.125 us at 1.6 GHz"), std::string::npos) << summary;
  EXPECT_NE(summary.find("matrix              2       32.5            5.0               0.0             0.0    62.5"),
            std::string::npos)
      << summary;
  EXPECT_NE(summary.find("scalar              0        0.0            0.0               0.0            25.0    75.0"),
            std::string::npos)
      << summary;
}

}  // namespace
}  // namespace tessera::sim
