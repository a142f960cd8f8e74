// The elementwise program cache: plans that differ only in their constants share one program
// (the constants are its kernel arguments), any other difference makes another program, and a
// plan that draws random numbers is built every time.
#include <gtest/gtest.h>

#include <cstring>

#include "arch/chip_loader.h"
#include "compiler/elementwise_cache.h"

namespace tessera::compiler {
namespace {

using Layout = ElementwisePlan::Layout;

// y (4 x 100) = x * scale, x at x_addr, y at 0x10000.
ElementwisePlan scale_plan(float scale, int64_t x_addr) {
  ElementwisePlan p;
  p.rows = 4, p.cols = 100;
  p.inputs.push_back({x_addr, Layout::Full, 0, DType::F32});
  p.constants = {scale};
  ElementwisePlan::Op mul;
  mul.kind = ElementwisePlan::Op::Kind::Binary, mul.binary = isa::BinaryFn::Mul;
  mul.dst = 0, mul.a = 0, mul.b = p.constant_slot(0);
  p.ops = {mul};
  p.outputs = {{0, 0x10000, DType::F32}};
  return p;
}

float argument(const ElementwiseProgramCache::Launch& launch) {
  float value = 0;
  EXPECT_EQ(launch.constants.size(), 4u);
  std::memcpy(&value, launch.constants.data(), 4);
  return value;
}

arch::ChipSpec chip() { return arch::load_chip("t1", std::vector<std::string>{"cores=4"}); }

TEST(ElementwiseProgramCacheTest, PlansDifferingOnlyInTheirConstantsShareOneProgram) {
  ElementwiseProgramCache cache;
  ElementwiseProgramCache::Launch two = cache.program(chip(), scale_plan(2.0f, 0));
  const isa::Program* program = &two.cached.program;
  sim::ProgramFingerprint fingerprint = two.cached.fingerprint;
  EXPECT_EQ(argument(two), 2.0f);
  ElementwiseProgramCache::Launch three = cache.program(chip(), scale_plan(3.0f, 0));
  EXPECT_EQ(&three.cached.program, program);
  EXPECT_EQ(three.cached.fingerprint, fingerprint);
  EXPECT_EQ(three.constants_addr, two.constants_addr);
  EXPECT_EQ(argument(three), 3.0f);
  EXPECT_EQ(cache.misses(), 1);
  EXPECT_EQ(cache.hits(), 1);
  // The cached program is the one the builder makes, and its fingerprint is that program's.
  EXPECT_EQ(sim::fingerprint(elementwise_program(chip(), scale_plan(5.0f, 0)).program), fingerprint);

  ElementwiseProgramCache::Launch moved = cache.program(chip(), scale_plan(2.0f, 0x400));  // x elsewhere
  EXPECT_NE(moved.cached.fingerprint, fingerprint);
  EXPECT_EQ(cache.misses(), 2);
}

TEST(ElementwiseProgramCacheTest, APlanThatDrawsRandomNumbersIsBuiltEveryTime) {
  ElementwiseProgramCache cache;
  ElementwisePlan p = scale_plan(2.0f, 0);
  ElementwisePlan::Op draw;
  draw.kind = ElementwisePlan::Op::Kind::Random, draw.dst = 0, draw.seed = 7, draw.counter = 0;
  p.ops.insert(p.ops.begin(), draw);
  sim::ProgramFingerprint first = cache.program(chip(), p).cached.fingerprint;
  EXPECT_EQ(cache.program(chip(), p).cached.fingerprint, first);  // the same plan: the same program
  p.ops[0].counter = 400;
  EXPECT_NE(cache.program(chip(), p).cached.fingerprint, first);
  EXPECT_EQ(cache.misses(), 3);
  EXPECT_EQ(cache.hits(), 0);
}

}  // namespace
}  // namespace tessera::compiler
