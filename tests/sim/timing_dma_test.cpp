// The DMA model and the shared memories: bandwidth, latency, the L2's cache of HBM reads,
// contention between cores, other cores' scratchpads, and ideal bandwidth.
#include <gtest/gtest.h>

#include "timing_test_util.h"

namespace tessera::sim {
namespace {

using namespace testing;

// T1 at 1.6 GHz: HBM 2500 B/cycle (4 TB/s) with 800 cycles latency, L2 5000 B/cycle, scratchpad 1024 B/cycle.
isa::Instruction load(int64_t hbm_offset, int64_t bytes) { return dma(spm(0), hbm(hbm_offset), 1, bytes, bytes, bytes); }

TEST(DmaTiming, HbmToScratchpadIsTheSlowestPathPlusLatency) {
  arch::ChipSpec t1 = chip("t1");
  Interval i = alone(t1, isa::Engine::Dma, load(0, 1 << 20));
  // HBM 1 MiB / 2500 + 800 = 1219.43; scratchpad 1 MiB / 1024 = 1024.
  EXPECT_NEAR(i.end_cycle, 1048576.0 / 2500 + 800, 1e-6);
  EXPECT_NEAR(i.compute_cycles, i.end_cycle, 1e-6);
  EXPECT_EQ(i.memory_wait_cycles, 0);
  EXPECT_EQ(i.bytes[static_cast<int>(Level::Hbm)], 1 << 20);
  EXPECT_EQ(i.bytes[static_cast<int>(Level::L2)], 1 << 20);
  EXPECT_EQ(i.bytes[static_cast<int>(Level::Spm)], 1 << 20);
}

TEST(DmaTiming, ABlockReadAgainComesFromTheL2) {
  arch::ChipSpec t1 = chip("t1");
  TimingModel model(t1);
  model.schedule(issued(isa::Engine::Dma, load(4096, 65536), 0), 0);
  Interval again = model.schedule(issued(isa::Engine::Dma, load(4096, 65536), 1), 2000);
  EXPECT_NEAR(again.end_cycle - again.start_cycle, 64, 1e-9);  // the scratchpad's 1024 B/cycle
  EXPECT_EQ(again.bytes[static_cast<int>(Level::Hbm)], 0);
  Interval other = model.schedule(issued(isa::Engine::Dma, load(0, 65536), 1), 4000);  // another block
  EXPECT_EQ(other.bytes[static_cast<int>(Level::Hbm)], 65536);
}

TEST(DmaTiming, TheL2ForgetsTheLeastRecentBlocks) {
  arch::ChipSpec t1 = chip("t1", {"l2.size=256KiB"});
  TimingModel model(t1);
  for (int b = 0; b < 5; ++b) model.schedule(issued(isa::Engine::Dma, load(b * 65536, 65536)), 10000.0 * b);
  Interval first = model.schedule(issued(isa::Engine::Dma, load(0, 65536)), 1e6);  // evicted by the fifth
  EXPECT_EQ(first.bytes[static_cast<int>(Level::Hbm)], 65536);
  Interval fifth = model.schedule(issued(isa::Engine::Dma, load(4 * 65536, 65536)), 2e6);
  EXPECT_EQ(fifth.bytes[static_cast<int>(Level::Hbm)], 0);
}

TEST(DmaTiming, CoresShareTheHbmBandwidth) {
  arch::ChipSpec t1 = chip("t1");
  TimingModel model(t1);
  Interval a = model.schedule(issued(isa::Engine::Dma, load(0, 1 << 20), 0), 0);
  Interval b = model.schedule(issued(isa::Engine::Dma, load(1 << 20, 1 << 20), 1), 0);
  EXPECT_NEAR(a.end_cycle, 1048576.0 / 2500 + 800, 1e-6);
  EXPECT_NEAR(b.end_cycle, 2 * 1048576.0 / 2500 + 800, 1e-6);
  EXPECT_NEAR(b.memory_wait_cycles, 1048576.0 / 2500, 1e-6);
  // The scratchpads are per core: core 1's own did not slow it down.
}

TEST(DmaTiming, AnotherCoresScratchpadIsThatCoresServer) {
  arch::ChipSpec t1 = chip("t1");
  TimingModel model(t1);
  // Core 0 writes 1 MiB into core 1's scratchpad from its own: both scratchpads busy 1024 cycles.
  Interval push = model.schedule(issued(isa::Engine::Dma, dma(at(Space::Spm, 0, -1, 1), spm(0), 1, 1 << 20, 0, 0), 0), 0);
  EXPECT_NEAR(push.end_cycle, 1024, 1e-9);
  EXPECT_EQ(push.bytes[static_cast<int>(Level::Spm)], 2 << 20);
  Interval vector_on_1 = model.schedule(
      issued(isa::Engine::Vector, vunary(isa::UnaryFn::Relu, spm(0), spm(4096), 1, 1024, DType::F32), 1), 0);
  EXPECT_NEAR(vector_on_1.end_cycle, 1024 + 8, 1e-9);  // 8 KiB after core 0's megabyte
}

TEST(DmaTiming, IdealBandwidthMovesBytesInNoTime) {
  arch::ChipSpec t1 = chip("t1");
  Interval i = alone(t1, isa::Engine::Dma, load(0, 1 << 20), true);
  EXPECT_EQ(i.end_cycle, 0);
  EXPECT_EQ(i.bytes[static_cast<int>(Level::Hbm)], 1 << 20);
}

TEST(DmaTiming, ThreeDimensionalCopiesCountEveryPlane) {
  arch::ChipSpec t1 = chip("t1");
  isa::Instruction copy3d = ins(isa::Opcode::DmaCopy3d, {hbm(0), spm(0), imm(4), imm(8), imm(256), imm(256), imm(256),
                                                          imm(4096), imm(2048)});
  Interval i = alone(t1, isa::Engine::Dma, copy3d);
  EXPECT_EQ(i.bytes[static_cast<int>(Level::Hbm)], 4 * 8 * 256);
  EXPECT_NEAR(i.end_cycle, 8192.0 / 2500 + 800, 1e-9);
}

}  // namespace
}  // namespace tessera::sim
