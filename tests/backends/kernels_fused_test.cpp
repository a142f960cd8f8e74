// Kernel harness, fused part: bias + GELU and residual add + layer norm, forward and backward,
// on every registered backend against cpu-ref; and cpu-ref's fused kernels against the unfused
// reference kernels they are specified as.
// Tolerances: storage_tolerance(dtype) (about one ulp of the output format), plus 1e-6 abs per
// summed term where a kernel sums along a row or over rows.
#include <cmath>

#include "backends/backend.h"
#include "kernel_harness.h"

namespace tessera::test {
namespace {

class FusedKernels : public ::testing::TestWithParam<std::string> {
 protected:
  Backend& tested() { return backend(GetParam()); }
};

// The last shape is large enough for the fast backend's threaded loops.
const std::vector<Shape> kShapes = {{1, 1}, {3, 7}, {5, 33}, {2, 65}, {4, 1000}, {2, 3, 130}, {40, 1000}};

int64_t rows_of(const Shape& shape) { return numel(shape) / shape.back(); }

TEST_P(FusedKernels, BiasGelu) {
  for (DType dtype : kFloatDTypes) {
    if (!tested().supports(Kernel::BiasGelu, dtype)) continue;
    for (const Shape& shape : kShapes) {
      int64_t n = shape.back();
      expect_matches_reference(
          tested(),
          [&](Workspace& ws) {
            View x = ws.input(dtype, shape, random_values(numel(shape), 50, -4.0f, 4.0f));
            View bias = ws.input(dtype, {n}, random_values(n, 51));
            View y = ws.output(dtype, shape);
            ws.backend().bias_gelu(x, bias, y);
            return std::vector<View>{y};
          },
          storage_tolerance(dtype), "bias_gelu " + shape_label(shape, dtype));
    }
  }
}

TEST_P(FusedKernels, BiasGeluBackwardAccumulatesTheBiasGradient) {
  for (DType dtype : kFloatDTypes) {
    if (!tested().supports(Kernel::BiasGeluBackward, dtype)) continue;
    for (const Shape& shape : kShapes) {
      int64_t n = shape.back();
      Tolerance tol = plus_abs(storage_tolerance(dtype), 1e-6 * rows_of(shape));
      expect_matches_reference(
          tested(),
          [&](Workspace& ws) {
            View x = ws.input(dtype, shape, random_values(numel(shape), 52, -4.0f, 4.0f));
            View bias = ws.input(dtype, {n}, random_values(n, 53));
            View dy = ws.input(dtype, shape, random_values(numel(shape), 54));
            View dx = ws.output(dtype, shape);
            View dbias = ws.output(dtype, {n}, random_values(n, 55));
            ws.backend().bias_gelu_backward(x, bias, dy, dx, dbias);
            return std::vector<View>{dx, dbias};
          },
          tol, "bias_gelu backward " + shape_label(shape, dtype));
    }
  }
}

TEST_P(FusedKernels, AddLayerNorm) {
  for (DType dtype : kFloatDTypes) {
    if (!tested().supports(Kernel::AddLayerNorm, dtype)) continue;
    for (const Shape& shape : kShapes) {
      int64_t rows = rows_of(shape), channels = shape.back();
      expect_matches_reference(
          tested(),
          [&](Workspace& ws) {
            View x = ws.input(dtype, shape, random_values(numel(shape), 56, -3.0f, 3.0f));
            View r = ws.input(dtype, shape, random_values(numel(shape), 57, -1.0f, 2.0f));
            View weight = ws.input(dtype, {channels}, random_values(channels, 58, 0.5f, 1.5f));
            View bias = ws.input(dtype, {channels}, random_values(channels, 59));
            View s = ws.output(dtype, shape), y = ws.output(dtype, shape);
            View mean = ws.output(DType::F32, {rows}), rstd = ws.output(DType::F32, {rows});
            ws.backend().add_layer_norm(x, r, weight, bias, s, y, mean, rstd, 1e-5f);
            return std::vector<View>{s, y, mean, rstd};
          },
          plus_abs(storage_tolerance(dtype), 1e-6 * channels), "add_layer_norm " + shape_label(shape, dtype));
    }
  }
}

// The forward statistics of each row of s (as dtype stores it), in double.
void row_statistics(const std::vector<float>& s, int64_t channels, std::vector<float>& means,
                    std::vector<float>& rstds) {
  for (size_t start = 0; start < s.size(); start += channels) {
    double sum = 0.0, squares = 0.0;
    for (int64_t c = 0; c < channels; ++c) sum += s[start + c];
    double mean = sum / channels;
    for (int64_t c = 0; c < channels; ++c) squares += (s[start + c] - mean) * (s[start + c] - mean);
    means.push_back(static_cast<float>(mean));
    rstds.push_back(static_cast<float>(1.0 / std::sqrt(squares / channels + 1e-5)));
  }
}

TEST_P(FusedKernels, AddLayerNormBackwardAddsTheResidualGradient) {
  for (bool with_ds : {true, false})
    for (DType dtype : kFloatDTypes) {
      if (!tested().supports(Kernel::AddLayerNormBackward, dtype)) continue;
      for (const Shape& shape : kShapes) {
        int64_t rows = rows_of(shape), channels = shape.back();
        std::vector<float> s_values = rounded(random_values(numel(shape), 60, -3.0f, 3.0f), dtype);
        std::vector<float> means, rstds;
        row_statistics(s_values, channels, means, rstds);
        Tolerance tol = plus_abs(storage_tolerance(dtype), 1e-6 * std::max(rows, channels));
        expect_matches_reference(
            tested(),
            [&](Workspace& ws) {
              View dy = ws.input(dtype, shape, random_values(numel(shape), 61));
              View ds = with_ds ? ws.input(dtype, shape, random_values(numel(shape), 62))
                                : Workspace::absent(dtype, shape);
              View s = ws.input(dtype, shape, s_values);
              View weight = ws.input(dtype, {channels}, random_values(channels, 63, 0.5f, 1.5f));
              View mean = ws.input(DType::F32, {rows}, means), rstd = ws.input(DType::F32, {rows}, rstds);
              View dx = ws.output(dtype, shape);
              View dweight = ws.output(dtype, {channels}, random_values(channels, 64));
              View dbias = ws.output(dtype, {channels}, random_values(channels, 65));
              ws.backend().add_layer_norm_backward(dy, ds, s, weight, mean, rstd, dx, dweight, dbias);
              return std::vector<View>{dx, dweight, dbias};
            },
            tol, std::string("add_layer_norm backward ") + (with_ds ? "" : "without ds ") + shape_label(shape, dtype));
      }
    }
}

INSTANTIATE_TEST_SUITE_P(AllBackends, FusedKernels, ::testing::ValuesIn(computing_backend_names()),
                         backend_test_name);

// cpu-ref's fused kernels equal, bit for bit, its unfused kernels with an f32 intermediate.
TEST(ReferenceFusedKernels, AreTheUnfusedKernelsWithAnF32Intermediate) {
  Backend& ref = backend("cpu-ref");
  Workspace ws(ref);
  const Shape shape{3, 37};
  const int64_t n = 37;
  View x = ws.input(DType::BF16, shape, random_values(numel(shape), 70, -4.0f, 4.0f));
  View bias = ws.input(DType::BF16, {n}, random_values(n, 71));
  View dy = ws.input(DType::BF16, shape, random_values(numel(shape), 72));
  View bias_rows{bias.data, DType::BF16, shape, {0, 1}};
  View z = ws.output(DType::F32, shape), y = ws.output(DType::BF16, shape), fused_y = ws.output(DType::BF16, shape);
  ref.binary(BinaryOp::Add, x, bias_rows, z);
  ref.unary(UnaryOp::Gelu, z, y);
  ref.bias_gelu(x, bias, fused_y);
  EXPECT_EQ(ws.read(fused_y), ws.read(y));

  View grad = ws.output(DType::F32, shape), dx = ws.output(DType::BF16, shape);
  View dbias = ws.output(DType::F32, {n}, std::vector<float>(n, 0.5f));
  ref.unary_backward(UnaryOp::Gelu, z, dy, grad);
  ref.bias_gelu_backward(x, bias, dy, dx, dbias);
  std::vector<float> grads = ws.read(grad), want_dbias(n, 0.5f);
  EXPECT_EQ(ws.read(dx), rounded(grads, DType::BF16));
  for (int64_t c = 0; c < n; ++c) {
    double sum = 0.5;
    for (int64_t r = 0; r < shape[0]; ++r) sum += grads[r * n + c];
    want_dbias[c] = static_cast<float>(sum);
  }
  EXPECT_EQ(ws.read(dbias), want_dbias);
}

}  // namespace
}  // namespace tessera::test
