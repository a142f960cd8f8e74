// Kernel harness, contraction part: matmul (transposes, batch strides, accumulate), conv2d
// (padding, stride, optional bias), max pooling and causal attention, forward and backward, on
// every registered backend, against cpu-ref.
// Tolerances: storage_tolerance(dtype) (about one ulp of the output format; f32 1e-5 abs +
// 1e-5 rel) plus 1e-6 abs per summed product (values are O(1)), since backends may sum in
// another order.
#include <cmath>

#include "backends/backend.h"
#include "kernel_harness.h"

namespace tessera::test {
namespace {

class MatmulConvKernels : public ::testing::TestWithParam<std::string> {
 protected:
  Backend& tested() { return backend(GetParam()); }
};

struct MatmulDims {
  int64_t batch, m, n, k;
};
const MatmulDims kMatmulDims[] = {
    {1, 1, 1, 1}, {1, 7, 5, 33}, {3, 7, 65, 33}, {2, 33, 1, 65}, {2, 17, 19, 300}};

TEST_P(MatmulConvKernels, MatmulTransposesBatchStridesAndAccumulate) {
  for (DType dtype : kFloatDTypes) {
    if (!tested().supports(Kernel::Matmul, dtype)) continue;
    // The chip backends' matrix engines multiply bf16 inputs: given values that bf16 holds
    // exactly, their f32 results must agree to f32 accumulation order (chip_matmul_test.cpp
    // checks general f32 inputs).
    bool bf16_inputs = tested().name().rfind("chip:", 0) == 0;
    auto inputs = [&](std::vector<float> values) { return bf16_inputs ? rounded(values, DType::BF16) : values; };
    for (MatmulDims d : kMatmulDims)
      for (int variant = 0; variant < 16; ++variant) {
        MatmulArgs args;
        args.batch = d.batch;
        args.m = d.m;
        args.n = d.n;
        args.k = d.k;
        args.transpose_a = variant & 1;
        args.transpose_b = variant & 2;
        args.accumulate = variant & 4;
        bool shared_a = variant & 8;  // one A for every batch entry (batch stride 0)
        // B and out have gaps between batch entries, which the kernel must not touch.
        args.batch_stride_a = shared_a ? 0 : d.m * d.k;
        args.batch_stride_b = d.k * d.n + 5;
        args.batch_stride_out = d.m * d.n + 3;
        int64_t a_size = (shared_a ? 1 : d.batch) * d.m * d.k;
        int64_t b_size = d.batch * args.batch_stride_b;
        int64_t out_size = d.batch * args.batch_stride_out;
        std::string what = "matmul batch " + std::to_string(d.batch) + " m " + std::to_string(d.m) +
                           " n " + std::to_string(d.n) + " k " + std::to_string(d.k) +
                           (args.transpose_a ? " A^T" : "") + (args.transpose_b ? " B^T" : "") +
                           (args.accumulate ? " +=" : "") + (shared_a ? " shared A " : " ") +
                           std::string(dtype_name(dtype));
        expect_matches_reference(
            tested(),
            [&](Workspace& ws) {
              View a = ws.input(dtype, {a_size}, inputs(random_values(a_size, 50)));
              View b = ws.input(dtype, {b_size}, inputs(random_values(b_size, 51)));
              View out = args.accumulate ? ws.output(dtype, {out_size}, random_values(out_size, 52))
                                         : ws.output(dtype, {out_size});
              ws.backend().matmul(a, b, out, args);
              return std::vector<View>{out};
            },
            plus_abs(storage_tolerance(dtype), 1e-6 * d.k), what);
      }
  }
}

struct ConvCase {
  int64_t batch, in_channels, height, width, out_channels, kernel_h, kernel_w, stride, padding;
  bool bias;
  Shape x() const { return {batch, in_channels, height, width}; }
  Shape weight() const { return {out_channels, in_channels, kernel_h, kernel_w}; }
  Shape y() const {
    return {batch, out_channels, (height + 2 * padding - kernel_h) / stride + 1,
            (width + 2 * padding - kernel_w) / stride + 1};
  }
  std::string label() const {
    return shape_str(x()) + " * " + shape_str(weight()) + " stride " + std::to_string(stride) +
           " padding " + std::to_string(padding) + (bias ? " bias" : " no bias");
  }
};
const ConvCase kConvCases[] = {
    {1, 1, 1, 1, 1, 1, 1, 1, 0, true},   {1, 1, 5, 5, 1, 3, 3, 1, 0, true},
    {2, 3, 7, 6, 4, 3, 3, 1, 1, true},   {2, 2, 9, 9, 3, 3, 3, 2, 1, false},
    {1, 3, 8, 8, 2, 5, 5, 2, 2, true},   {1, 2, 7, 7, 3, 1, 1, 1, 0, false},
    {2, 4, 33, 33, 8, 3, 3, 2, 1, true}, {1, 2, 6, 7, 2, 3, 2, 3, 1, true}};

TEST_P(MatmulConvKernels, Conv2dPaddingStrideAndBias) {
  for (DType dtype : kFloatDTypes) {
    if (!tested().supports(Kernel::Conv2d, dtype)) continue;
    // The chip backends convolve on their bf16 matrix engines: given values that bf16 holds
    // exactly, their f32 results must agree to f32 accumulation order (chip_convpool_test.cpp
    // checks general f32 inputs).
    bool bf16_inputs = tested().name().rfind("chip:", 0) == 0;
    auto inputs = [&](std::vector<float> values) { return bf16_inputs ? rounded(values, DType::BF16) : values; };
    for (const ConvCase& c : kConvCases) {
      Conv2dArgs args{c.stride, c.padding};
      expect_matches_reference(
          tested(),
          [&](Workspace& ws) {
            View x = ws.input(dtype, c.x(), inputs(random_values(numel(c.x()), 53)));
            View weight = ws.input(dtype, c.weight(), inputs(random_values(numel(c.weight()), 54)));
            View bias = c.bias
                            ? ws.input(dtype, {c.out_channels}, random_values(c.out_channels, 55))
                            : Workspace::absent(dtype, {c.out_channels});
            View y = ws.output(dtype, c.y());
            ws.backend().conv2d(x, weight, bias, y, args);
            return std::vector<View>{y};
          },
          plus_abs(storage_tolerance(dtype), 1e-6 * c.in_channels * c.kernel_h * c.kernel_w),
          "conv2d " + c.label() + " " + std::string(dtype_name(dtype)));
    }
  }
}

TEST_P(MatmulConvKernels, Conv2dBackwardAccumulatesWeightAndBiasGradients) {
  for (DType dtype : kFloatDTypes) {
    if (!tested().supports(Kernel::Conv2dBackward, dtype)) continue;
    bool bf16_inputs = tested().name().rfind("chip:", 0) == 0;  // as in the forward test
    auto inputs = [&](std::vector<float> values) { return bf16_inputs ? rounded(values, DType::BF16) : values; };
    for (const ConvCase& c : kConvCases) {
      Conv2dArgs args{c.stride, c.padding};
      Shape y_shape = c.y();
      int64_t summed =
          std::max(c.out_channels * c.kernel_h * c.kernel_w, c.batch * y_shape[2] * y_shape[3]);
      expect_matches_reference(
          tested(),
          [&](Workspace& ws) {
            View x = ws.input(dtype, c.x(), inputs(random_values(numel(c.x()), 56)));
            View weight = ws.input(dtype, c.weight(), inputs(random_values(numel(c.weight()), 57)));
            View dy = ws.input(dtype, y_shape, inputs(random_values(numel(y_shape), 58)));
            View dx = ws.output(dtype, c.x());
            View dweight = ws.output(dtype, c.weight(), random_values(numel(c.weight()), 59));
            View dbias = c.bias
                             ? ws.output(dtype, {c.out_channels}, random_values(c.out_channels, 60))
                             : Workspace::absent(dtype, {c.out_channels});
            ws.backend().conv2d_backward(x, weight, dy, dx, dweight, dbias, args);
            std::vector<View> outputs = {dx, dweight};
            if (c.bias) outputs.push_back(dbias);
            return outputs;
          },
          plus_abs(storage_tolerance(dtype), 1e-6 * summed),
          "conv2d backward " + c.label() + " " + std::string(dtype_name(dtype)));
    }
  }
}

struct PoolCase {
  Shape x;
  int64_t kernel, stride;
  Shape y() const {
    return {x[0], x[1], (x[2] - kernel) / stride + 1, (x[3] - kernel) / stride + 1};
  }
};
const PoolCase kPoolCases[] = {{{1, 1, 1, 1}, 1, 1},
                               {{2, 3, 7, 7}, 2, 2},
                               {{1, 2, 9, 8}, 3, 2},
                               {{1, 1, 5, 5}, 1, 1},
                               {{2, 2, 33, 33}, 3, 3},
                               {{1, 2, 9, 71}, 2, 2},    // 2x2 rows of 35: 16 + 16 + 3 lanes
                               {{1, 1, 4, 36}, 2, 2}};  // 2x2 rows of 18: 16 + 2 lanes

TEST_P(MatmulConvKernels, MaxPool2dAndItsBackward) {
  for (DType dtype : kFloatDTypes)
    for (const PoolCase& c : kPoolCases) {
      std::string label = shape_str(c.x) + " kernel " + std::to_string(c.kernel) + " stride " +
                          std::to_string(c.stride) + " " + std::string(dtype_name(dtype));
      Shape y_shape = c.y();
      if (tested().supports(Kernel::MaxPool2d, dtype))
        expect_matches_reference(
            tested(),
            [&](Workspace& ws) {
              // Few distinct values, so that ties (first in the window wins) are common.
              View x = ws.input(dtype, c.x, random_ints(numel(c.x), 61, -4, 5));
              View y = ws.output(dtype, y_shape);
              View indices = ws.output(DType::I64, y_shape);
              ws.backend().max_pool2d(x, y, indices, c.kernel, c.stride);
              return std::vector<View>{y, indices};
            },
            storage_tolerance(dtype), "max_pool2d " + label);
      if (tested().supports(Kernel::MaxPool2dBackward, dtype))
        expect_matches_reference(
            tested(),
            [&](Workspace& ws) {
              // Any positions in the plane; repeats must add up.
              View dy = ws.input(dtype, y_shape, random_values(numel(y_shape), 62));
              View indices = ws.input(DType::I64, y_shape,
                                      random_ints(numel(y_shape), 63, 0, c.x[2] * c.x[3]));
              View dx = ws.output(dtype, c.x);
              ws.backend().max_pool2d_backward(dy, indices, dx);
              return std::vector<View>{dx};
            },
            plus_abs(storage_tolerance(dtype), 1e-6 * numel(y_shape)),
            "max_pool2d backward " + label);
    }
}

const Shape kAttentionShapes[] = {{1, 1, 1, 1}, {2, 3, 7, 5}, {1, 2, 33, 16}, {1, 1, 65, 8}};

// The chip backends' matrix engines multiply bf16 operands. Given q, k, v and dout that bf16
// holds exactly, the probabilities P and the score gradients dS are still rounded to bf16 on
// their way into the engine (2^-9 relative each), so results in any dtype are held to bf16's
// storage tolerance (chip_attention_test.cpp checks general f32 inputs and longer sequences).
bool is_chip(const Backend& b) { return b.name().rfind("chip:", 0) == 0; }
std::vector<float> attention_inputs(const Backend& b, std::vector<float> values) {
  return is_chip(b) ? rounded(values, DType::BF16) : values;
}
Tolerance attention_tolerance(const Backend& b, DType dtype, const Shape& shape) {
  DType held_to = is_chip(b) && dtype == DType::F32 ? DType::BF16 : dtype;
  return plus_abs(storage_tolerance(held_to), 1e-6 * (shape[2] + shape[3]));
}

TEST_P(MatmulConvKernels, CausalAttention) {
  for (DType dtype : kFloatDTypes) {
    if (!tested().supports(Kernel::Attention, dtype)) continue;
    for (const Shape& shape : kAttentionShapes) {
      int64_t size = numel(shape);
      float scale = 1.0f / std::sqrt(static_cast<float>(shape[3]));
      expect_matches_reference(
          tested(),
          [&](Workspace& ws) {
            View q = ws.input(dtype, shape, attention_inputs(tested(), random_values(size, 64)));
            View k = ws.input(dtype, shape, attention_inputs(tested(), random_values(size, 65)));
            View v = ws.input(dtype, shape, attention_inputs(tested(), random_values(size, 66)));
            View out = ws.output(dtype, shape);
            View lse = ws.output(DType::F32, {shape[0], shape[1], shape[2]});
            ws.backend().attention(q, k, v, out, lse, scale);
            return std::vector<View>{out, lse};
          },
          attention_tolerance(tested(), dtype, shape), "attention " + shape_label(shape, dtype));
    }
  }
}

TEST_P(MatmulConvKernels, CausalAttentionBackward) {
  for (DType dtype : kFloatDTypes) {
    if (!tested().supports(Kernel::AttentionBackward, dtype)) continue;
    for (const Shape& shape : kAttentionShapes) {
      int64_t size = numel(shape);
      Shape lse_shape = {shape[0], shape[1], shape[2]};
      float scale = 1.0f / std::sqrt(static_cast<float>(shape[3]));
      std::vector<float> qs = attention_inputs(tested(), random_values(size, 67)),
                         ks = attention_inputs(tested(), random_values(size, 68)),
                         vs = attention_inputs(tested(), random_values(size, 69)),
                         douts = attention_inputs(tested(), random_values(size, 70));
      // The forward results the backward is given come from cpu-ref.
      Workspace forward(backend("cpu-ref"));
      View out_view = forward.output(dtype, shape);
      View lse_view = forward.output(DType::F32, lse_shape);
      forward.backend().attention(forward.input(dtype, shape, qs), forward.input(dtype, shape, ks),
                                  forward.input(dtype, shape, vs), out_view, lse_view, scale);
      std::vector<float> outs = forward.read(out_view), lses = forward.read(lse_view);
      expect_matches_reference(
          tested(),
          [&](Workspace& ws) {
            View q = ws.input(dtype, shape, qs), k = ws.input(dtype, shape, ks),
                 v = ws.input(dtype, shape, vs);
            View out = ws.input(dtype, shape, outs);
            View lse = ws.input(DType::F32, lse_shape, lses);
            View dout = ws.input(dtype, shape, douts);
            View dq = ws.output(dtype, shape), dk = ws.output(dtype, shape),
                 dv = ws.output(dtype, shape);
            ws.backend().attention_backward(q, k, v, out, lse, dout, dq, dk, dv, scale);
            return std::vector<View>{dq, dk, dv};
          },
          attention_tolerance(tested(), dtype, shape), "attention backward " + shape_label(shape, dtype));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllBackends, MatmulConvKernels, ::testing::ValuesIn(computing_backend_names()),
                         backend_test_name);

}  // namespace
}  // namespace tessera::test
