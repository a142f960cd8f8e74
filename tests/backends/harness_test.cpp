// The kernel harness catches what it is there to catch: writes past either end of an output,
// changed inputs, and results beyond the tolerance.
#include <gtest/gtest-spi.h>

#include "backends/backend.h"
#include "kernel_harness.h"

namespace tessera::test {
namespace {

TEST(Harness, DetectsAWriteIntoTheGuardAfterAnOutput) {
  Backend& ref = backend("cpu-ref");
  Workspace ws(ref);
  View out = ws.output(DType::F32, {7});
  float stray = 1.0f;
  ref.copy_from_host(static_cast<float*>(out.data) + 7, &stray, sizeof stray);
  EXPECT_NONFATAL_FAILURE(ws.expect_intact("overrun"), "guard after");
}

TEST(Harness, DetectsAWriteIntoTheGuardBeforeAnOutput) {
  Backend& ref = backend("cpu-ref");
  Workspace ws(ref);
  View out = ws.output(DType::BF16, {3});
  uint16_t stray = 0;
  ref.copy_from_host(static_cast<uint16_t*>(out.data) - 1, &stray, sizeof stray);
  EXPECT_NONFATAL_FAILURE(ws.expect_intact("underrun"), "guard before");
}

TEST(Harness, DetectsAChangedInput) {
  Backend& ref = backend("cpu-ref");
  Workspace ws(ref);
  View x = ws.input(DType::F32, {4}, {1, 2, 3, 4});
  ref.fill(x, 0.0);
  EXPECT_NONFATAL_FAILURE(ws.expect_intact("in place"), "input changed");
}

TEST(Harness, LeavesACorrectKernelAlone) {
  Backend& ref = backend("cpu-ref");
  Workspace ws(ref);
  View x = ws.input(DType::F16, {33}, random_values(33, 1));
  View out = ws.output(DType::F16, {33});
  ref.unary(UnaryOp::Neg, x, out);
  ws.expect_intact("neg");
}

TEST(Harness, ComparesWithinTheToleranceOnly) {
  std::vector<float> expected = {1.0f, -2.0f, 100.0f};
  expect_close(std::vector<float>{1.0f + 1e-6f, -2.0f, 100.0f + 5e-4f}, expected, {1e-5, 1e-5},
               "inside");
  EXPECT_NONFATAL_FAILURE(
      expect_close(std::vector<float>{1.0f, -2.0f, 100.1f}, expected, {1e-5, 1e-5}, "outside"),
      "1 of 3 elements differ");
  EXPECT_NONFATAL_FAILURE(
      expect_close(std::vector<float>{NAN, -2.0f, 100.0f}, expected, {1.0, 1.0}, "nan"),
      "1 of 3 elements differ");
}

TEST(Harness, OutputsStartPoisonedSoThatUnwrittenElementsFail) {
  Backend& ref = backend("cpu-ref");
  Workspace ws(ref);
  View out = ws.output(DType::F32, {2});
  for (float v : ws.read(out)) EXPECT_TRUE(std::isnan(v));
}

}  // namespace
}  // namespace tessera::test
