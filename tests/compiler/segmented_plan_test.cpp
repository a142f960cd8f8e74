// Elementwise plans over segments (multi-tensor kernels): one row made of arrays that lie
// apart, each read and written at its own addresses, tiles never crossing a segment; the
// segments are part of the program cache's key.
#include <gtest/gtest.h>

#include <vector>

#include "arch/chip_loader.h"
#include "base/random.h"
#include "compiler/elementwise_cache.h"
#include "compiler/tile_program.h"
#include "sim/simulator.h"

namespace tessera::compiler {
namespace {

using Layout = ElementwisePlan::Layout;

// out_k = x_k * 3 + s for segments of `sizes` elements; x_k at 0x100000 * (k + 1), out_k
// 0x40000 above it; s a Scalar input at 0x10.
ElementwisePlan affine_over_segments(const std::vector<int64_t>& sizes) {
  ElementwisePlan p;
  p.rows = 1;
  for (size_t k = 0; k < sizes.size(); ++k) {
    int64_t x = 0x100000 * static_cast<int64_t>(k + 1);
    p.segments.push_back({sizes[k], {x, 0}, {x + 0x40000}});
    p.cols += sizes[k];
  }
  p.inputs = {{0, Layout::Full, 0, DType::F32}, {0x10, Layout::Scalar, 0, DType::F32}};
  ElementwisePlan::Op mul, add;
  mul.kind = add.kind = ElementwisePlan::Op::Kind::Binary;
  mul.binary = isa::BinaryFn::Mul, add.binary = isa::BinaryFn::Add;
  p.constants = {3.0f};
  mul.dst = 0, mul.a = 0, mul.b = p.constant_slot(0);
  add.dst = 0, add.a = 0, add.b = 1;
  p.ops = {mul, add};
  p.outputs = {{0, 0, DType::F32}};
  return p;
}

TEST(SegmentedPlan, EachSegmentIsReadAndWrittenWhereItLies) {
  arch::ChipSpec chip = arch::load_chip("t1", std::vector<std::string>{"cores=4"});
  const std::vector<int64_t> sizes = {1500, 7, 2048, 1};  // 2 + 1 + 2 + 1 tiles of at most 1024
  ElementwisePlan p = affine_over_segments(sizes);
  ElementwiseProgram built = elementwise_program(chip, p);
  sim::Simulator sim(chip);
  const float s = 0.25f;
  sim.memory().hbm().write(0x10, &s, 4);
  std::vector<std::vector<float>> xs;
  for (size_t k = 0; k < sizes.size(); ++k) {
    xs.emplace_back(static_cast<size_t>(sizes[k]));
    for (size_t i = 0; i < xs[k].size(); ++i) xs[k][i] = random_normal(k + 1, i);
    sim.memory().hbm().write(p.segments[k].input_addrs[0], xs[k].data(), sizes[k] * 4);
  }
  std::vector<uint8_t> arguments = elementwise_arguments(p);
  for (int core = 0; core < chip.cores; ++core)
    sim.memory().spm(core).write(built.constants_addr, arguments.data(), static_cast<int64_t>(arguments.size()));
  sim.run(built.program);
  for (size_t k = 0; k < sizes.size(); ++k) {
    std::vector<float> out(static_cast<size_t>(sizes[k] + 1), -1.0f);  // and the float after it
    sim.memory().hbm().read(p.segments[k].output_addrs[0], out.data(), (sizes[k] + 1) * 4);
    for (size_t i = 0; i < xs[k].size(); ++i) {
      volatile float product = xs[k][i] * 3.0f;  // rounded before the add, as the chip does
      ASSERT_EQ(out[i], product + s) << "segment " << k << " at " << i;
    }
    EXPECT_EQ(out.back(), 0.0f) << "segment " << k << ": written past its end";
  }
}

TEST(SegmentedPlan, SegmentsArePartOfTheProgramKey) {
  arch::ChipSpec chip = arch::load_chip("t1", std::vector<std::string>{"cores=4"});
  ElementwiseProgramCache cache;
  ElementwisePlan p = affine_over_segments({100, 200});
  sim::ProgramFingerprint first = cache.program(chip, p).cached.fingerprint;
  EXPECT_EQ(cache.program(chip, p).cached.fingerprint, first);
  ElementwisePlan moved = p;
  moved.segments[1].output_addrs[0] += 0x400;
  EXPECT_NE(cache.program(chip, moved).cached.fingerprint, first);
  ElementwisePlan resized = affine_over_segments({200, 100});  // the same row, cut elsewhere
  EXPECT_NE(cache.program(chip, resized).cached.fingerprint, first);
  EXPECT_EQ(cache.misses(), 3);
  EXPECT_EQ(cache.hits(), 1);
}

}  // namespace
}  // namespace tessera::compiler
