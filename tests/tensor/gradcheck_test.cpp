// The gradient checker itself: it must pass a correct gradient and catch a wrong one, or the
// whole op harness would prove nothing.
#include <gtest/gtest-spi.h>

#include "gradcheck.h"

namespace tessera::test {
namespace {

class GradcheckTest : public OpTest {};

TEST_P(GradcheckTest, AcceptsACorrectGradient) {
  gradcheck([](const std::vector<Tensor>& in) { return mul(in[0], in[0]); }, {randn({2, 3}, 131)},
            {1e-2f, {1e-3, 1e-2}}, "x * x");
}

TEST_P(GradcheckTest, CatchesAWrongGradient) {
  // x * detach(x): autograd sees x once (gradient x), finite differences see x^2 (gradient 2x).
  Tensor x = randn({2, 3}, 132);
  EXPECT_NONFATAL_FAILURE(
      gradcheck([](const std::vector<Tensor>& in) { return mul(in[0], in[0].detach()); }, {x},
                {1e-2f, {1e-3, 1e-2}}, "x * detach(x)"),
      "autograd vs finite differences");
}

TEST_P(GradcheckTest, CatchesAMissingGradient) {
  Tensor x = randn({3}, 133);
  EXPECT_NONFATAL_FAILURE(
      gradcheck([](const std::vector<Tensor>& in) { return exp(in[0].detach()); }, {x},
                {1e-2f, {1e-3, 1e-2}}, "exp(detach(x))"),
      "input 0");
}

INSTANTIATE_FOR_BACKENDS(GradcheckTest);

}  // namespace
}  // namespace tessera::test
