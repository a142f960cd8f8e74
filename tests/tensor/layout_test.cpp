// Layout ops on every backend: reshape (with -1), permute, transpose, slice, concat, expand,
// sum_to, casts to bf16 and back, contiguous and copies between backends, with gradients.
#include "gradcheck.h"

namespace tessera::test {
namespace {

class LayoutTest : public OpTest {};

const GradcheckOptions kLinear{1e-2f, {1e-3, 1e-2}};  // linear ops: differences are exact

TEST_P(LayoutTest, ReshapeInfersMinusOneAndSharesStorage) {
  std::vector<float> x = normal_values(24, 101);
  Tensor t = tensor(x, {2, 3, 4});
  Tensor r = reshape(t, {4, -1});
  EXPECT_EQ(r.shape(), (Shape{4, 6}));
  EXPECT_EQ(r.view().data, t.view().data) << "reshape of a contiguous tensor is a view";
  EXPECT_EQ(r.to_floats(), x);
  EXPECT_EQ(reshape(t, {-1}).shape(), Shape{24});
  gradcheck([](const std::vector<Tensor>& in) { return reshape(in[0], {-1, 2}); },
            {tensor(x, {2, 3, 4})}, kLinear, "reshape");
}

TEST_P(LayoutTest, ReshapeOfAStridedTensorCopiesInLogicalOrder) {
  std::vector<float> x = normal_values(24, 102);
  Tensor r = reshape(transpose(tensor(x, {2, 3, 4}), 0, 1), {6, 4});  // (3, 2, 4) -> (6, 4)
  std::vector<float> expected;
  for (int64_t j = 0; j < 3; ++j)
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t k = 0; k < 4; ++k) expected.push_back(x[(i * 3 + j) * 4 + k]);
  EXPECT_EQ(r.to_floats(), expected);
  gradcheck([](const std::vector<Tensor>& in) { return reshape(transpose(in[0], 0, 1), {6, 4}); },
            {tensor(x, {2, 3, 4})}, kLinear, "reshape of a transpose");
}

TEST_P(LayoutTest, PermuteAndTransposeAreStridedViews) {
  std::vector<float> x = normal_values(24, 103);
  Tensor t = tensor(x, {2, 3, 4});
  Tensor p = permute(t, {2, 0, 1});  // p[i, j, k] = x[j, k, i]
  EXPECT_EQ(p.shape(), (Shape{4, 2, 3}));
  EXPECT_FALSE(p.is_contiguous());
  EXPECT_EQ(p.view().data, t.view().data);
  Tensor tr = transpose(t, -1, 0);  // tr[i, j, k] = x[k, j, i]
  EXPECT_EQ(tr.shape(), (Shape{4, 3, 2}));
  std::vector<float> expected_p, expected_t;
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t j = 0; j < 2; ++j)
      for (int64_t k = 0; k < 3; ++k) expected_p.push_back(x[(j * 3 + k) * 4 + i]);
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t j = 0; j < 3; ++j)
      for (int64_t k = 0; k < 2; ++k) expected_t.push_back(x[(k * 3 + j) * 4 + i]);
  EXPECT_EQ(p.to_floats(), expected_p);
  EXPECT_EQ(tr.to_floats(), expected_t);
  gradcheck([](const std::vector<Tensor>& in) { return permute(in[0], {2, 0, 1}); },
            {tensor(x, {2, 3, 4})}, kLinear, "permute");
  gradcheck([](const std::vector<Tensor>& in) { return transpose(in[0], -1, 0); },
            {tensor(x, {2, 3, 4})}, kLinear, "transpose");
}

TEST_P(LayoutTest, SliceIsAViewAndItsGradientIsZeroOutside) {
  std::vector<float> x = normal_values(20, 104);
  Tensor t = tensor(x, {4, 5});
  Tensor s = slice(t, 1, 1, 4);  // columns 1..3
  EXPECT_EQ(s.shape(), (Shape{4, 3}));
  std::vector<float> expected;
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t j = 1; j < 4; ++j) expected.push_back(x[i * 5 + j]);
  EXPECT_EQ(s.to_floats(), expected);
  Tensor rows = slice(t, 0, 2, 4);
  EXPECT_EQ(rows.to_floats(), std::vector<float>(x.begin() + 10, x.end()));
  EXPECT_EQ(rows.view().data, static_cast<void*>(static_cast<float*>(t.view().data) + 10));

  t.set_requires_grad(true);
  slice(t, -1, 1, 4).backward(tensor(std::vector<float>(12, 1.0f), {4, 3}));
  std::vector<float> grad = t.grad().to_floats();
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t j = 0; j < 5; ++j) EXPECT_EQ(grad[i * 5 + j], j >= 1 && j < 4 ? 1.0f : 0.0f);
  gradcheck([](const std::vector<Tensor>& in) { return slice(in[0], 1, 1, 4); },
            {tensor(x, {4, 5})}, kLinear, "slice");
}

TEST_P(LayoutTest, ConcatAlongADimension) {
  std::vector<float> a = normal_values(6, 105), b = normal_values(12, 106),
                     c = normal_values(18, 107);
  Tensor out = concat({tensor(a, {2, 1, 3}), tensor(b, {2, 2, 3}), tensor(c, {2, 3, 3})}, 1);
  EXPECT_EQ(out.shape(), (Shape{2, 6, 3}));
  std::vector<float> expected;
  for (int64_t n = 0; n < 2; ++n) {
    expected.insert(expected.end(), a.begin() + n * 3, a.begin() + (n + 1) * 3);
    expected.insert(expected.end(), b.begin() + n * 6, b.begin() + (n + 1) * 6);
    expected.insert(expected.end(), c.begin() + n * 9, c.begin() + (n + 1) * 9);
  }
  EXPECT_EQ(out.to_floats(), expected);
  Tensor last = concat({tensor(a, {2, 3}), tensor(b, {2, 6})}, -1);
  EXPECT_EQ(last.shape(), (Shape{2, 9}));
  gradcheck([](const std::vector<Tensor>& in) { return concat(in, 1); },
            {tensor(a, {2, 1, 3}), tensor(b, {2, 2, 3}), tensor(c, {2, 3, 3})}, kLinear,
            "concat");
}

TEST_P(LayoutTest, ExpandAndSumToAreAdjoint) {
  std::vector<float> x = normal_values(3, 108);
  Tensor e = expand(tensor(x, {3, 1}), {2, 3, 4});
  EXPECT_EQ(e.shape(), (Shape{2, 3, 4}));
  std::vector<float> expected;
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t j = 0; j < 4; ++j) expected.push_back(x[i]);
  EXPECT_EQ(e.to_floats(), expected);
  gradcheck([](const std::vector<Tensor>& in) { return expand(in[0], {2, 3, 4}); },
            {tensor(x, {3, 1})}, kLinear, "expand");

  std::vector<float> y = normal_values(24, 109);
  std::vector<float> to_31(3, 0.0f), to_4(4, 0.0f);
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t j = 0; j < 4; ++j) {
        to_31[i] += y[(n * 3 + i) * 4 + j];
        to_4[j] += y[(n * 3 + i) * 4 + j];
      }
  Tensor s = sum_to(tensor(y, {2, 3, 4}), {3, 1});
  EXPECT_EQ(s.shape(), (Shape{3, 1}));
  expect_close(s.to_floats(), to_31, {1e-6, 1e-6}, "sum_to (3, 1)");
  expect_close(sum_to(tensor(y, {2, 3, 4}), {4}).to_floats(), to_4, {1e-6, 1e-6}, "sum_to (4,)");
  gradcheck([](const std::vector<Tensor>& in) { return sum_to(in[0], {3, 1}); },
            {tensor(y, {2, 3, 4})}, kLinear, "sum_to");
}

TEST_P(LayoutTest, CastToBf16AndBackRoundsAndPassesTheGradient) {
  std::vector<float> x = normal_values(12, 110), seed = normal_values(12, 111);
  Tensor t = tensor(x, {3, 4});
  t.set_requires_grad(true);
  Tensor narrow = cast(t, DType::BF16);
  EXPECT_EQ(narrow.dtype(), DType::BF16);
  Tensor back = narrow.to(DType::F32);
  EXPECT_TRUE(back.requires_grad());
  std::vector<float> rounded_x(12), rounded_seed(12);
  for (size_t i = 0; i < 12; ++i) {
    rounded_x[i] = round_to_dtype(x[i], DType::BF16);
    rounded_seed[i] = round_to_dtype(seed[i], DType::BF16);
  }
  EXPECT_EQ(back.to_floats(), rounded_x);
  // The gradient passes through the bf16 tensor, so it arrives rounded to bf16, as f32.
  back.backward(tensor(seed, {3, 4}));
  ASSERT_TRUE(t.grad().defined());
  EXPECT_EQ(t.grad().dtype(), DType::F32);
  EXPECT_EQ(t.grad().to_floats(), rounded_seed);

  Tensor ints = cast(tensor({1.75f, -2.5f, 3.0f}, {3}), DType::I64);
  EXPECT_EQ(ints.to_ints(), (std::vector<int64_t>{1, -2, 3}));  // truncation toward zero
}

TEST_P(LayoutTest, ContiguousCopiesAStridedView) {
  std::vector<float> x = normal_values(6, 112);
  Tensor tr = transpose(tensor(x, {2, 3}), 0, 1);
  Tensor c = contiguous(tr);
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_NE(c.view().data, tr.view().data);
  EXPECT_EQ(c.to_floats(), (std::vector<float>{x[0], x[3], x[1], x[4], x[2], x[5]}));
  Tensor already = tensor(x, {2, 3});
  EXPECT_EQ(contiguous(already).view().data, already.view().data);
  gradcheck([](const std::vector<Tensor>& in) { return contiguous(transpose(in[0], 0, 1)); },
            {tensor(x, {2, 3})}, kLinear, "contiguous");
}

TEST_P(LayoutTest, ToDeviceCopiesBetweenBackendsAndBringsTheGradientBack) {
  std::vector<float> x = normal_values(6, 113);
  for (const std::string& other : harness_backends()) {
    Tensor t = tensor(x, {2, 3});
    t.set_requires_grad(true);
    Tensor moved = t.to_device(other);
    EXPECT_EQ(moved.device(), other);
    EXPECT_EQ(moved.to_floats(), x) << device() << " -> " << other;
    sum(scale(moved, 3.0f)).backward();
    ASSERT_TRUE(t.grad().defined());
    EXPECT_EQ(t.grad().device(), device());
    EXPECT_EQ(t.grad().to_floats(), std::vector<float>(6, 3.0f)) << device() << " -> " << other;
  }
}

TEST_P(LayoutTest, OpsOnStridedViewsPassGradientsToTheBase) {
  std::vector<float> x = matrix_values(24, 114), w = matrix_values(8, 115);
  gradcheck([](const std::vector<Tensor>& in) { return matmul(transpose(in[0], 0, 1), in[1]); },
            {tensor(x, {4, 6}), tensor(w, {4, 2})}, matrix_gradcheck(device(), {2e-3, 2e-2}),
            "matmul of a transpose");
  gradcheck([](const std::vector<Tensor>& in) { return softmax(permute(in[0], {1, 2, 0})); },
            {tensor(x, {2, 3, 4})}, {1e-2f, {2e-3, 2e-2}}, "softmax of a permute");
  gradcheck([](const std::vector<Tensor>& in) { return sum(slice(in[0], 1, 1, 3), {0}); },
            {tensor(x, {2, 3, 4})}, kLinear, "sum of a slice");
  gradcheck(
      [](const std::vector<Tensor>& in) {
        return mul(slice(in[0], 0, 0, 1), slice(in[0], 0, 1, 2));  // one leaf, two windows
      },
      {tensor(x, {2, 12})}, {1e-2f, {2e-3, 2e-2}}, "product of two slices");
}

INSTANTIATE_FOR_BACKENDS(LayoutTest);

}  // namespace
}  // namespace tessera::test
