// The autograd engine on every backend: accumulation into leaves across backward passes,
// tensors used twice, NoGradGuard, and the errors for a second backward and a missing seed.
#include "op_test.h"

namespace tessera::test {
namespace {

class AutogradTest : public OpTest {};

TEST_P(AutogradTest, GradientsAccumulateAcrossBackwardPasses) {
  Tensor x = tensor({1.0f, -2.0f, 0.5f}, {3});
  x.set_requires_grad(true);
  sum(mul(x, x)).backward();  // d/dx = 2x
  expect_close(x.grad().to_floats(), {2.0f, -4.0f, 1.0f}, {0.0, 0.0}, "first pass");
  sum(scale(x, 3.0f)).backward();  // + 3
  expect_close(x.grad().to_floats(), {5.0f, -1.0f, 4.0f}, {0.0, 0.0}, "accumulated");
  x.zero_grad();
  EXPECT_FALSE(x.grad().defined());
}

TEST_P(AutogradTest, ATensorUsedTwiceReceivesTheSumOfItsGradients) {
  Tensor x = tensor({1.0f, 2.0f, -3.0f, 0.25f}, {2, 2});
  x.set_requires_grad(true);
  Tensor y = exp(x);
  // loss = sum(y * x + y): d/dx = y * x + y + y.
  sum(add(mul(y, x), y)).backward();
  std::vector<float> xs = x.to_floats(), expected(4);
  for (size_t i = 0; i < 4; ++i) expected[i] = std::exp(xs[i]) * (xs[i] + 2.0f);
  expect_close(x.grad().to_floats(), expected, {1e-5, 1e-5}, "shared tensor");
}

TEST_P(AutogradTest, BothOperandsOfAnAddGetTheirOwnGradients) {
  Tensor a = tensor({1.0f, 2.0f}, {2}), b = tensor({3.0f, 4.0f}, {2});
  a.set_requires_grad(true);
  b.set_requires_grad(true);
  sum(add(a, b)).backward();
  sum(scale(a, 2.0f)).backward();  // must not change b's gradient
  expect_close(a.grad().to_floats(), {3.0f, 3.0f}, {0.0, 0.0}, "a");
  expect_close(b.grad().to_floats(), {1.0f, 1.0f}, {0.0, 0.0}, "b");
}

TEST_P(AutogradTest, OnlyInputsThatRequireGradientsReceiveThem) {
  Tensor x = tensor({1.0f, 2.0f}, {2}), c = tensor({5.0f, 7.0f}, {2});
  x.set_requires_grad(true);
  Tensor y = mul(x, c);
  EXPECT_TRUE(y.requires_grad());
  EXPECT_NE(y.grad_fn(), nullptr);
  sum(y).backward();
  expect_close(x.grad().to_floats(), {5.0f, 7.0f}, {0.0, 0.0}, "x");
  EXPECT_FALSE(c.grad().defined());
  EXPECT_FALSE(x.detach().requires_grad());
}

TEST_P(AutogradTest, NoGradGuardRecordsNothing) {
  Tensor x = randn({2, 3}, 121);
  x.set_requires_grad(true);
  {
    NoGradGuard no_grad;
    EXPECT_FALSE(grad_enabled());
    Tensor y = sum(relu(matmul(x, x, false, true)));
    EXPECT_FALSE(y.requires_grad());
    EXPECT_EQ(y.grad_fn(), nullptr);
  }
  EXPECT_TRUE(grad_enabled());
  EXPECT_TRUE(sum(x).requires_grad());
}

TEST_P(AutogradTest, BackwardTwiceThroughOneGraphIsAnError) {
  Tensor x = tensor({1.0f, 2.0f}, {2});
  x.set_requires_grad(true);
  Tensor loss = sum(mul(x, x));
  loss.backward();
  EXPECT_ERROR_CONTAINS(loss.backward(),
                        "backward through 'sum' a second time: its saved tensors were already "
                        "freed");
}

TEST_P(AutogradTest, BackwardOfANonScalarNeedsASeed) {
  Tensor x = randn({2, 3}, 122);
  x.set_requires_grad(true);
  Tensor y = scale(x, 2.0f);
  EXPECT_ERROR_CONTAINS(y.backward(),
                        "backward() without a seed gradient needs a scalar, got shape (2, 3)");
  EXPECT_ERROR_CONTAINS(y.backward(randn({3, 2}, 123)),
                        "seed gradient shape (3, 2) differs from the tensor's shape (2, 3)");
  EXPECT_ERROR_CONTAINS(randn({2}, 124).backward(),
                        "backward() on a tensor that does not require gradients");
}

// Sums are added to in place only when no one else holds them: an embedding table used twice
// (as GPT-2's is, by its output head) gets both gradients, and a gradient the caller kept from
// an earlier pass keeps its values.
TEST_P(AutogradTest, ATableUsedTwiceSumsBothGradientsAndHeldGradientsStay) {
  Tensor table = tensor({1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f}, {3, 2});
  table.set_requires_grad(true);
  Tensor rows = ids({0, 2, 0}, {3});
  Tensor w = tensor({1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f}, {3, 2});
  Tensor c = tensor({0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f}, {3, 2});
  auto pass = [&] { sum(add(mul(embedding(rows, table), w), mul(table, c))).backward(); };
  pass();  // rows 0 and 2 of w land on rows 0, 2 and 0 of the table, plus c everywhere
  std::vector<float> once = {6.5f, 8.5f, 0.5f, 0.5f, 3.5f, 4.5f};
  expect_close(table.grad().to_floats(), once, {0.0, 0.0}, "one pass");
  Tensor held = table.grad();
  pass();
  expect_close(held.to_floats(), once, {0.0, 0.0}, "held from the first pass");
  held = Tensor();
  pass();
  std::vector<float> thrice(once.size());
  for (size_t i = 0; i < once.size(); ++i) thrice[i] = 3.0f * once[i];
  expect_close(table.grad().to_floats(), thrice, {0.0, 0.0}, "three passes");
}

INSTANTIATE_FOR_BACKENDS(AutogradTest);

}  // namespace
}  // namespace tessera::test
