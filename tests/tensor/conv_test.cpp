// conv2d (stride 1 and 2, padding 0 and 1, with and without bias) and max_pool2d on every
// backend, against direct host loops and finite differences.
#include "gradcheck.h"

namespace tessera::test {
namespace {

class ConvTest : public OpTest {};

// y (N, O, OH, OW) of x (N, C, H, W) and w (O, C, KH, KW) by the definition.
std::vector<float> host_conv2d(const std::vector<float>& x, const Shape& sx,
                               const std::vector<float>& w, const Shape& sw,
                               const std::vector<float>* bias, int64_t stride, int64_t padding,
                               Shape* out_shape) {
  int64_t n = sx[0], c = sx[1], h = sx[2], wd = sx[3], o = sw[0], kh = sw[2], kw = sw[3];
  int64_t oh = (h + 2 * padding - kh) / stride + 1, ow = (wd + 2 * padding - kw) / stride + 1;
  *out_shape = {n, o, oh, ow};
  std::vector<float> y(n * o * oh * ow);
  for (int64_t b = 0; b < n; ++b)
    for (int64_t oc = 0; oc < o; ++oc)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          double acc = bias ? (*bias)[oc] : 0.0;
          for (int64_t ic = 0; ic < c; ++ic)
            for (int64_t u = 0; u < kh; ++u)
              for (int64_t v = 0; v < kw; ++v) {
                int64_t r = i * stride + u - padding, s = j * stride + v - padding;
                if (r < 0 || r >= h || s < 0 || s >= wd) continue;
                acc += double(x[((b * c + ic) * h + r) * wd + s]) * w[((oc * c + ic) * kh + u) * kw + v];
              }
          y[((b * o + oc) * oh + i) * ow + j] = static_cast<float>(acc);
        }
  return y;
}

TEST_P(ConvTest, Conv2dStridesPaddingsAndBias) {
  const Shape sx{2, 3, 5, 5}, sw{4, 3, 3, 3};
  std::vector<float> x = matrix_values(numel(sx), 91), w = matrix_values(numel(sw), 92, 0.5f),
                     b = matrix_values(4, 93);
  for (int64_t stride : {1, 2})
    for (int64_t padding : {0, 1})
      for (bool with_bias : {true, false}) {
        std::string what = "conv2d stride " + std::to_string(stride) + " padding " +
                           std::to_string(padding) + (with_bias ? " with bias" : " without bias");
        Shape expected_shape;
        std::vector<float> expected =
            host_conv2d(x, sx, w, sw, with_bias ? &b : nullptr, stride, padding, &expected_shape);
        Tensor bias = with_bias ? tensor(b, {4}) : Tensor();
        Tensor y = conv2d(tensor(x, sx), tensor(w, sw), bias, stride, padding);
        EXPECT_EQ(y.shape(), expected_shape) << what;
        expect_close(y.to_floats(), expected, {1e-5, 1e-5}, what);
        std::vector<Tensor> inputs{tensor(x, sx), tensor(w, sw)};
        if (with_bias) inputs.push_back(tensor(b, {4}));
        // Bilinear in (x, w): abs 2e-3 + rel 2e-2.
        gradcheck(
            [&](const std::vector<Tensor>& in) {
              return conv2d(in[0], in[1], with_bias ? in[2] : Tensor(), stride, padding);
            },
            inputs, matrix_gradcheck(device(), {2e-3, 2e-2}), what);
      }
}

TEST_P(ConvTest, MaxPool2d) {
  const Shape sx{2, 2, 6, 6};
  // Distinct values 0.05 apart: no window's arg-max changes under a step of 1e-2.
  std::vector<float> x = distinct_values(numel(sx), 94, 0.05f);
  struct Case {
    int64_t kernel, stride;
  };
  for (Case c : {Case{2, 2}, Case{3, 2}, Case{3, 1}}) {  // disjoint and overlapping windows
    std::string what = "max_pool2d kernel " + std::to_string(c.kernel) + " stride " +
                       std::to_string(c.stride);
    int64_t o = (6 - c.kernel) / c.stride + 1;
    std::vector<float> expected;
    for (int64_t plane = 0; plane < 4; ++plane)
      for (int64_t i = 0; i < o; ++i)
        for (int64_t j = 0; j < o; ++j) {
          float top = -1e30f;
          for (int64_t u = 0; u < c.kernel; ++u)
            for (int64_t v = 0; v < c.kernel; ++v)
              top = std::max(top, x[plane * 36 + (i * c.stride + u) * 6 + j * c.stride + v]);
          expected.push_back(top);
        }
    Tensor y = max_pool2d(tensor(x, sx), c.kernel, c.stride);
    EXPECT_EQ(y.shape(), (Shape{2, 2, o, o})) << what;
    expect_close(y.to_floats(), expected, {0.0, 0.0}, what);
    gradcheck([&](const std::vector<Tensor>& in) { return max_pool2d(in[0], c.kernel, c.stride); },
              {tensor(x, sx)}, {1e-2f, {1e-3, 1e-2}}, what);
  }
}

INSTANTIATE_FOR_BACKENDS(ConvTest);

}  // namespace
}  // namespace tessera::test
