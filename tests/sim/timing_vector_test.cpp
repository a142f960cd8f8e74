// The vector model: lanes x ops per lane-cycle, operations per element, and the scratchpad as
// a limit.
#include <gtest/gtest.h>

#include "timing_test_util.h"

namespace tessera::sim {
namespace {

using namespace testing;

// T1: 128 lanes x 2 ops = 256 ops/cycle; scratchpad 1024 B/cycle.
TEST(VectorTiming, ComputeBoundAndScratchpadBound) {
  arch::ChipSpec t1 = chip("t1");
  // relu on 64x64 bf16: 4096 ops = 16 cycles; 16 KiB of scratchpad = 16 cycles.
  Interval bf16 = alone(t1, isa::Engine::Vector, vunary(isa::UnaryFn::Relu, spm(0), spm(1 << 16), 64, 64, DType::BF16));
  EXPECT_NEAR(bf16.end_cycle, 16, 1e-9);
  EXPECT_EQ(bf16.flops, 4096);
  // f32: 32 KiB = 32 cycles; the engine computes 16 and waits 16.
  Interval f32 = alone(t1, isa::Engine::Vector, vunary(isa::UnaryFn::Relu, spm(0), spm(1 << 16), 64, 64, DType::F32));
  EXPECT_NEAR(f32.end_cycle, 32, 1e-9);
  EXPECT_NEAR(f32.compute_cycles, 16, 1e-9);
  EXPECT_NEAR(f32.memory_wait_cycles, 16, 1e-9);
  // exp costs 4 ops per element: 64 cycles, the scratchpad no longer limits.
  Interval exp = alone(t1, isa::Engine::Vector, vunary(isa::UnaryFn::Exp, spm(0), spm(1 << 16), 64, 64, DType::F32));
  EXPECT_NEAR(exp.end_cycle, 64, 1e-9);
  EXPECT_EQ(exp.memory_wait_cycles, 0);
}

TEST(VectorTiming, BroadcastOperandsAreReadOnce) {
  arch::ChipSpec t1 = chip("t1");
  auto binary = [&](isa::Broadcast bcast) {
    return ins(isa::Opcode::VBinary, {en(isa::OperandKind::BinaryFn, isa::BinaryFn::Add), spm(0), spm(1 << 16),
                                      spm(1 << 17), imm(64), imm(128), dt(DType::F32),
                                      en(isa::OperandKind::Broadcast, bcast)});
  };
  EXPECT_EQ(alone(t1, isa::Engine::Vector, binary(isa::Broadcast::None)).bytes[static_cast<int>(Level::Spm)],
            3 * 64 * 128 * 4);
  EXPECT_EQ(alone(t1, isa::Engine::Vector, binary(isa::Broadcast::Row)).bytes[static_cast<int>(Level::Spm)],
            (2 * 64 * 128 + 128) * 4);
  EXPECT_EQ(alone(t1, isa::Engine::Vector, binary(isa::Broadcast::Col)).bytes[static_cast<int>(Level::Spm)],
            (2 * 64 * 128 + 64) * 4);
}

TEST(VectorTiming, DataMovementCountsNoFlops) {
  arch::ChipSpec t1 = chip("t1");
  Interval fill = alone(t1, isa::Engine::Vector, vfill(spm(0), 1.5f, 32, 32, DType::F32));
  EXPECT_EQ(fill.flops, 0);
  EXPECT_NEAR(fill.end_cycle, 4, 1e-9);  // 1024 elements / 256, 4 KiB / 1024
}

TEST(VectorTiming, RandomCostsEightOpsPerElement) {
  arch::ChipSpec t1 = chip("t1");
  Interval draw = alone(t1, isa::Engine::Vector,
                        ins(isa::Opcode::VRandom, {spm(0), reg(1), reg(2), imm(32), imm(32), dt(DType::F32)}));
  EXPECT_NEAR(draw.end_cycle, 32, 1e-9);  // 1024 elements x 8 ops / 256; 4 KiB of scratchpad take 4
  EXPECT_EQ(draw.flops, 0);
}

}  // namespace
}  // namespace tessera::sim
