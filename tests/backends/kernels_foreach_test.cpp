// Kernel harness, multi-tensor part: sum_squares_many and scale_many on every registered
// backend against cpu-ref and against the backend's own per-tensor kernels (sum_squares,
// affine with shift 0), over lists of tensors of different sizes and dtypes, an empty list and
// tensors of 0 elements.
#include "backends/backend.h"
#include "kernel_harness.h"

namespace tessera::test {
namespace {

class ForeachKernels : public ::testing::TestWithParam<std::string> {
 protected:
  Backend& tested() { return backend(GetParam()); }
};

// Sizes of the tensors in one list: one element, 0 elements, a few tiles, odd lengths.
const std::vector<int64_t> kListSizes = {1, 33, 0, 1000, 7, 65, 20000};

// The tensors of kListSizes in dtype, with distinct seeded values.
std::vector<View> list_inputs(Workspace& ws, DType dtype, float scale = 2.0f) {
  std::vector<View> views;
  for (size_t i = 0; i < kListSizes.size(); ++i)
    views.push_back(ws.input(dtype, {kListSizes[i]}, random_values(kListSizes[i], 40 + i, -scale, scale)));
  return views;
}

TEST_P(ForeachKernels, SumSquaresManyIsTheSumOfThePerTensorSums) {
  for (DType dtype : kFloatDTypes) {
    if (!tested().supports(Kernel::SumSquaresMany, dtype)) continue;
    Workspace reference_ws(backend("cpu-ref")), ws(tested());
    std::vector<View> reference_xs = list_inputs(reference_ws, dtype), xs = list_inputs(ws, dtype);
    double expected = reference_ws.backend().sum_squares_many(reference_xs);
    double many = ws.backend().sum_squares_many(xs);
    double singles = 0.0;
    for (const View& x : xs) singles += ws.backend().sum_squares(x);
    // The reference sums exact squares in double: only the order of additions differs.
    EXPECT_NEAR(many, expected, 1e-9 * expected) << dtype_name(dtype);
    // The backend's own per-tensor sums: the same bound as one sum (the chip's compensated sum
    // is within a relative 3 * 2^-48 per addition, well below 1e-12 for these lengths).
    EXPECT_NEAR(many, singles, 1e-12 * singles) << dtype_name(dtype);
    reference_ws.expect_intact("sum_squares_many");
    ws.expect_intact("sum_squares_many");
  }
}

TEST_P(ForeachKernels, SumSquaresManyMixesDTypesInOneList) {
  if (!tested().supports(Kernel::SumSquaresMany, DType::BF16)) return;
  Workspace ws(tested());
  View a = ws.input(DType::F32, {777}, random_values(777, 50, -3.0f, 3.0f));
  View b = ws.input(DType::BF16, {4099}, random_values(4099, 51, -3.0f, 3.0f));
  View c = ws.input(DType::F32, {5}, random_values(5, 52, -3.0f, 3.0f));
  double singles = ws.backend().sum_squares(a) + ws.backend().sum_squares(b) + ws.backend().sum_squares(c);
  std::vector<View> xs = {a, b, c};
  EXPECT_NEAR(ws.backend().sum_squares_many(xs), singles, 1e-12 * singles);
  ws.expect_intact("sum_squares_many f32 + bf16");
}

TEST_P(ForeachKernels, SumSquaresManyOfNothingIsZero) {
  Workspace ws(tested());
  EXPECT_EQ(ws.backend().sum_squares_many({}), 0.0);
  std::vector<View> empty = {ws.input(DType::F32, {0}, {}), ws.input(DType::F32, {3, 0}, {})};
  EXPECT_EQ(ws.backend().sum_squares_many(empty), 0.0);
}

TEST_P(ForeachKernels, ScaleManyMatchesTheReference) {
  for (DType dtype : kFloatDTypes) {
    if (!tested().supports(Kernel::ScaleMany, dtype)) continue;
    expect_matches_reference(
        tested(),
        [&](Workspace& ws) {
          std::vector<View> xs = list_inputs(ws, dtype, 4.0f), outs;
          for (const View& x : xs) outs.push_back(ws.output(dtype, x.shape));
          ws.backend().scale_many(xs, outs, 0.37f);
          return outs;
        },
        storage_tolerance(dtype), "scale_many " + std::string(dtype_name(dtype)));
  }
}

TEST_P(ForeachKernels, ScaleManyIsAffineBitForBit) {
  // What clipping wrote before the multi-tensor kernel: affine(x, out, factor, 0) per tensor.
  for (DType dtype : kFloatDTypes) {
    if (!tested().supports(Kernel::ScaleMany, dtype)) continue;
    Workspace ws(tested());
    std::vector<View> xs = list_inputs(ws, dtype, 4.0f), outs, singles;
    // A negative value whose product underflows: affine's + 0 makes -0 into +0.
    xs.push_back(ws.input(dtype, {2}, {-1e-30f, 1e-30f}));
    for (const View& x : xs) {
      outs.push_back(ws.output(dtype, x.shape));
      singles.push_back(ws.output(dtype, x.shape));
      ws.backend().affine(x, singles.back(), 1e-20f, 0.0f);
    }
    ws.backend().scale_many(xs, outs, 1e-20f);
    ws.backend().scale_many(std::vector<View>(xs.begin(), xs.end() - 1),
                            std::vector<View>(outs.begin(), outs.end() - 1), 0.37f);
    for (size_t i = 0; i + 1 < xs.size(); ++i) ws.backend().affine(xs[i], singles[i], 0.37f, 0.0f);
    for (size_t i = 0; i < xs.size(); ++i) {
      size_t bytes = static_cast<size_t>(xs[i].numel()) * dtype_size(dtype);
      std::vector<uint8_t> got(bytes), want(bytes);
      ws.backend().copy_to_host(got.data(), outs[i].data, bytes);
      ws.backend().copy_to_host(want.data(), singles[i].data, bytes);
      EXPECT_EQ(got, want) << "scale_many " << dtype_name(dtype) << " tensor " << i;
    }
    ws.expect_intact("scale_many");
  }
}

TEST_P(ForeachKernels, ScaleManyOfNothingWritesNothing) {
  Workspace ws(tested());
  ws.backend().scale_many({}, {}, 2.0f);
  std::vector<View> xs = {ws.input(DType::F32, {0}, {})}, outs = {ws.output(DType::F32, {0})};
  ws.backend().scale_many(xs, outs, 2.0f);
  ws.expect_intact("scale_many of nothing");
}

INSTANTIATE_TEST_SUITE_P(AllBackends, ForeachKernels, ::testing::ValuesIn(computing_backend_names()),
                         backend_test_name);

}  // namespace
}  // namespace tessera::test
