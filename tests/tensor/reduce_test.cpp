// Reductions on every backend: sum and mean (all elements, chosen dims, keepdim), max along a
// dimension with its gradient to the first arg-max, and argmax.
#include "gradcheck.h"

namespace tessera::test {
namespace {

class ReduceTest : public OpTest {};

// x (2, 3, 4) summed over `dims` (sorted, non-negative) with the host, keeping them as 1.
std::vector<float> host_sum(const std::vector<float>& x, const Shape& shape,
                            const std::vector<int64_t>& dims) {
  Shape kept = shape;
  for (int64_t d : dims) kept[d] = 1;
  Strides in_strides = contiguous_strides(shape), out_strides = contiguous_strides(kept);
  std::vector<double> out(numel(kept), 0.0);
  for (int64_t i = 0; i < numel(shape); ++i) {
    int64_t o = 0;
    for (size_t d = 0; d < shape.size(); ++d)
      if (kept[d] != 1) o += (i / in_strides[d]) % shape[d] * out_strides[d];
    out[o] += x[i];
  }
  return std::vector<float>(out.begin(), out.end());
}

TEST_P(ReduceTest, SumOfAllElements) {
  std::vector<float> x = normal_values(24, 51);
  Tensor s = sum(tensor(x, {2, 3, 4}));
  EXPECT_EQ(s.shape(), Shape{});
  expect_close({s.item()}, host_sum(x, {2, 3, 4}, {0, 1, 2}), {1e-5, 1e-5}, "sum all");
  gradcheck([](const std::vector<Tensor>& in) { return sum(in[0]); }, {tensor(x, {2, 3, 4})},
            {1e-2f, {1e-3, 1e-2}}, "sum all");
}

TEST_P(ReduceTest, SumOverDimsWithAndWithoutKeepdim) {
  const Shape shape{2, 3, 4};
  std::vector<float> x = normal_values(24, 52);
  struct Case {
    std::vector<int64_t> dims, sorted;
    Shape dropped;
  };
  const Case cases[] = {{{0}, {0}, {3, 4}},
                        {{-1}, {2}, {2, 3}},
                        {{1}, {1}, {2, 4}},
                        {{2, 0}, {0, 2}, {3}},
                        {{0, 1}, {0, 1}, {4}}};
  for (const Case& c : cases) {
    std::vector<float> expected = host_sum(x, shape, c.sorted);
    std::string what = "sum over " + shape_str(c.dims);
    Tensor dropped = sum(tensor(x, shape), c.dims, false);
    EXPECT_EQ(dropped.shape(), c.dropped) << what;
    expect_close(dropped.to_floats(), expected, {1e-6, 1e-6}, what);
    Tensor kept = sum(tensor(x, shape), c.dims, true);
    Shape kept_shape = shape;
    for (int64_t d : c.sorted) kept_shape[d] = 1;
    EXPECT_EQ(kept.shape(), kept_shape) << what;
    expect_close(kept.to_floats(), expected, {1e-6, 1e-6}, what + " keepdim");
    for (bool keepdim : {false, true})
      gradcheck([&](const std::vector<Tensor>& in) { return sum(in[0], c.dims, keepdim); },
                {tensor(x, shape)}, {1e-2f, {1e-3, 1e-2}}, what);
  }
}

TEST_P(ReduceTest, MeanOfAllAndOverDims) {
  const Shape shape{2, 3, 4};
  std::vector<float> x = normal_values(24, 53);
  expect_close({mean(tensor(x, shape)).item()}, {host_sum(x, shape, {0, 1, 2})[0] / 24.0f},
               {1e-6, 1e-5}, "mean all");
  std::vector<float> expected = host_sum(x, shape, {1});
  for (float& v : expected) v /= 3.0f;
  Tensor m = mean(tensor(x, shape), {1}, true);
  EXPECT_EQ(m.shape(), (Shape{2, 1, 4}));
  expect_close(m.to_floats(), expected, {1e-6, 1e-5}, "mean over dim 1");
  gradcheck([](const std::vector<Tensor>& in) { return mean(in[0]); }, {tensor(x, shape)},
            {1e-2f, {1e-3, 1e-2}}, "mean all");
  gradcheck([](const std::vector<Tensor>& in) { return mean(in[0], {0, 2}, false); },
            {tensor(x, shape)}, {1e-2f, {1e-3, 1e-2}}, "mean over (0, 2)");
}

TEST_P(ReduceTest, MaxAlongADimension) {
  const Shape shape{3, 4, 5};
  // Distinct values 0.1 apart: no arg-max changes under a step of 1e-2.
  std::vector<float> x = distinct_values(60, 54, 0.1f);
  for (int64_t dim : {0, 1, 2}) {
    Shape kept = shape;
    kept[dim] = 1;
    Strides st = contiguous_strides(shape), kst = contiguous_strides(kept);
    std::vector<float> expected(numel(kept), -1e30f);
    std::vector<int64_t> arg(numel(kept), -1);
    for (int64_t i = 0; i < 60; ++i) {
      int64_t o = 0;
      for (int64_t d = 0; d < 3; ++d)
        if (d != dim) o += (i / st[d]) % shape[d] * kst[d];
      if (x[i] > expected[o]) {
        expected[o] = x[i];
        arg[o] = (i / st[dim]) % shape[dim];
      }
    }
    std::string what = "max over dim " + std::to_string(dim);
    Tensor m = max(tensor(x, shape), dim, true);
    EXPECT_EQ(m.shape(), kept) << what;
    expect_close(m.to_floats(), expected, {0.0, 0.0}, what);
    Tensor dropped = max(tensor(x, shape), dim - 3, false);  // the same dim, counted from the end
    EXPECT_EQ(dropped.dim(), 2) << what;
    expect_close(dropped.to_floats(), expected, {0.0, 0.0}, what);
    Tensor indices = argmax(tensor(x, shape), dim);
    EXPECT_EQ(indices.dtype(), DType::I64);
    EXPECT_EQ(indices.to_ints(), arg) << what;
    gradcheck([&](const std::vector<Tensor>& in) { return max(in[0], dim, false); },
              {tensor(x, shape)}, {1e-2f, {1e-3, 1e-2}}, what);
  }
}

TEST_P(ReduceTest, MaxGradientGoesToTheFirstArgMaxOfATie) {
  Tensor x = tensor({1.0f, 3.0f, 3.0f, 2.0f, 5.0f, 5.0f, 5.0f, -1.0f}, {2, 4});
  x.set_requires_grad(true);
  Tensor m = max(x, 1);
  expect_close(m.to_floats(), {3.0f, 5.0f}, {0.0, 0.0}, "max with ties");
  EXPECT_EQ(argmax(x, 1).to_ints(), (std::vector<int64_t>{1, 0}));
  m.backward(tensor({2.0f, -1.0f}, {2}));
  expect_close(x.grad().to_floats(), {0, 2, 0, 0, -1, 0, 0, 0}, {0.0, 0.0}, "tie gradient");
}

INSTANTIATE_FOR_BACKENDS(ReduceTest);

}  // namespace
}  // namespace tessera::test
