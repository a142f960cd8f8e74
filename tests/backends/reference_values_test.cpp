// cpu-ref kernels on small inputs whose results are worked out by hand: the anchor that the
// kernel harness (which compares every backend with cpu-ref) hangs from. Exact where the result
// is exactly representable; otherwise the tolerance is stated beside the check.
#include <cmath>
#include <cstdint>

#include "backends/backend.h"
#include "base/error.h"
#include "kernel_harness.h"

namespace tessera::test {
namespace {

Backend& ref() { return backend("cpu-ref"); }
const DType F32 = DType::F32;
const Tolerance kExact = {0.0, 0.0};
const Tolerance kF32 = {1e-6, 1e-6};

TEST(ReferenceValues, SupportsEveryKernelForFloatsAndCopyFillForIntegers) {
  for (int k = 0; k < static_cast<int>(Kernel::Count); ++k) {
    Kernel kernel = static_cast<Kernel>(k);
    for (DType dtype : kFloatDTypes)
      EXPECT_TRUE(ref().supports(kernel, dtype)) << kernel_name(kernel);
    bool copy_or_fill = kernel == Kernel::Copy || kernel == Kernel::Fill;
    EXPECT_EQ(ref().supports(kernel, DType::I32), copy_or_fill) << kernel_name(kernel);
    EXPECT_EQ(ref().supports(kernel, DType::I64), copy_or_fill) << kernel_name(kernel);
  }
  EXPECT_EQ(ref().name(), "cpu-ref");
}

TEST(ReferenceValues, AllocateReturnsZeroedAlignedMemory) {
  for (size_t bytes : {size_t{0}, size_t{1}, size_t{100}, size_t{4096}}) {
    std::shared_ptr<void> memory = ref().allocate(bytes);
    ASSERT_NE(memory, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(memory.get()) % 64, 0u);
    std::vector<uint8_t> host(bytes, 0xFF);
    ref().copy_to_host(host.data(), memory.get(), bytes);
    for (uint8_t b : host) ASSERT_EQ(b, 0);
  }
}

TEST(ReferenceValues, StoresRoundToNearestEven) {
  // 1 + 2^-8 lies halfway between the bf16 neighbours 1 and 1 + 2^-7: even is 1. 1 + 3 * 2^-8
  // lies halfway between 1 + 2^-7 and 1 + 2^-6: even is 1 + 2^-6.
  Workspace ws(ref());
  View x = ws.input(DType::BF16, {2}, {1.0f, 1.0f + 0x1p-7f});
  View out = ws.output(DType::BF16, {2});
  ref().affine(x, out, 1.0f, 0x1p-8f);
  expect_close(ws.read(out), std::vector<float>{1.0f, 1.0f + 0x1p-6f}, kExact, "bf16 ties");
}

TEST(ReferenceValues, CopyTransposesConvertsAndTruncates) {
  Workspace ws(ref());
  // (3, 2) buffer 0..5 read through strides (1, 2) as its (2, 3) transpose.
  View src = ws.input(F32, {3, 2}, {0, 1, 2, 3, 4, 5});
  src.shape = {2, 3};
  src.strides = {1, 2};
  View dst = ws.output(DType::F16, {2, 3});
  ref().copy(src, dst);
  expect_close(ws.read(dst), std::vector<float>{0, 2, 4, 1, 3, 5}, kExact, "transpose");
  // Float to integer truncates toward zero; integer to integer is exact.
  View floats = ws.input(F32, {4}, {-2.7f, 2.7f, -0.5f, 7.0f});
  View ints = ws.output(DType::I32, {4});
  ref().copy(floats, ints);
  expect_close(ws.read(ints), std::vector<float>{-2, 2, 0, 7}, kExact, "f32 -> i32");
  View wide = ws.output(DType::I64, {4});
  ref().copy(ints, wide);
  expect_close(ws.read(wide), std::vector<float>{-2, 2, 0, 7}, kExact, "i32 -> i64");
  ws.expect_intact("copy");
}

TEST(ReferenceValues, FillIntegerAndStridedDestinations) {
  Workspace ws(ref());
  View ints = ws.output(DType::I64, {3});
  ref().fill(ints, -4.0);
  expect_close(ws.read(ints), std::vector<float>{-4, -4, -4}, kExact, "fill i64");
  View buffer = ws.output(F32, {6}, {1, 2, 3, 4, 5, 6});
  View every_other = buffer;
  every_other.shape = {3};
  every_other.strides = {2};
  ref().fill(every_other, 0.5);
  expect_close(ws.read(buffer), std::vector<float>{0.5, 2, 0.5, 4, 0.5, 6}, kExact, "strided");
}

TEST(ReferenceValues, BinaryBroadcastsRowsAgainstColumns) {
  Workspace ws(ref());
  View a = ws.input(F32, {2, 1}, {1, 2}), b = ws.input(F32, {1, 3}, {10, 20, 40});
  a.shape = b.shape = {2, 3};
  a.strides = {1, 0};
  b.strides = {0, 1};
  View sum = ws.output(F32, {2, 3}), quotient = ws.output(F32, {2, 3});
  ref().binary(BinaryOp::Add, a, b, sum);
  ref().binary(BinaryOp::Div, b, a, quotient);
  expect_close(ws.read(sum), std::vector<float>{11, 21, 41, 12, 22, 42}, kExact, "add");
  expect_close(ws.read(quotient), std::vector<float>{10, 20, 40, 5, 10, 20}, kExact, "div");
}

TEST(ReferenceValues, UnaryOpsAndGeluTanhForm) {
  // gelu(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), evaluated in double.
  Workspace ws(ref());
  View x = ws.input(F32, {4}, {1.0f, -1.0f, 2.0f, 0.5f});
  View out = ws.output(F32, {4});
  ref().unary(UnaryOp::Gelu, x, out);
  expect_close(ws.read(out),
               std::vector<double>{0.8411919906, -0.1588080094, 1.9545976941, 0.3457140098}, kF32,
               "gelu");
  View y = ws.input(F32, {3}, {4.0f, -3.0f, 0.0f});
  View sqrt_out = ws.output(F32, {3}), relu_out = ws.output(F32, {3});
  ref().unary(UnaryOp::Relu, y, relu_out);
  expect_close(ws.read(relu_out), std::vector<float>{4, 0, 0}, kExact, "relu");
  View pos = ws.input(F32, {3}, {4.0f, 9.0f, 0.25f});
  ref().unary(UnaryOp::Sqrt, pos, sqrt_out);
  expect_close(ws.read(sqrt_out), std::vector<float>{2, 3, 0.5}, kExact, "sqrt");
  // relu's derivative at 0 is taken as 0, as in PyTorch.
  View grad_in = ws.output(F32, {3});
  ref().unary_backward(UnaryOp::Relu, y, ws.input(F32, {3}, {5, 6, 7}), grad_in);
  expect_close(ws.read(grad_in), std::vector<float>{5, 0, 0}, kExact, "relu backward");
}

TEST(ReferenceValues, UnaryBackwardRejectsOpsWithoutABackwardKernel) {
  Workspace ws(ref());
  View x = ws.input(F32, {1}, {1.0f});
  View grad_in = ws.output(F32, {1});
  try {
    ref().unary_backward(UnaryOp::Exp, x, x, grad_in);
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "unary_backward: op 'exp' has no backward kernel (only relu and gelu do)");
  }
}

TEST(ReferenceValues, ReduceAlongTheMiddleAxisAndFirstArgMax) {
  // x (outer 1, n 3, inner 2) = [[1, 5], [3, 5], [3, -1]].
  Workspace ws(ref());
  View x = ws.input(F32, {1, 3, 2}, {1, 5, 3, 5, 3, -1});
  View sum = ws.output(F32, {1, 2}), max = ws.output(F32, {1, 2});
  View indices = ws.output(DType::I64, {1, 2});
  ref().reduce(ReduceOp::Sum, x, sum, 1, 3, 2);
  ref().reduce_max(x, max, indices, 1, 3, 2);
  expect_close(ws.read(sum), std::vector<float>{7, 9}, kExact, "sum");
  expect_close(ws.read(max), std::vector<float>{3, 5}, kExact, "max");
  expect_close(ws.read(indices), std::vector<float>{1, 0}, kExact, "first arg-max");
  View scattered = ws.output(F32, {1, 3, 2});
  ref().scatter_along(ws.input(F32, {1, 2}, {7, 8}), indices, scattered, 1, 3, 2);
  expect_close(ws.read(scattered), std::vector<float>{0, 8, 7, 0, 0, 0}, kExact, "scatter");
}

TEST(ReferenceValues, CrossEntropyOfKnownProbabilities) {
  // logits (0, ln 2, ln 3): softmax (1/6, 2/6, 3/6), lse = ln 6; target 2: loss ln 2.
  Workspace ws(ref());
  View logits = ws.input(F32, {2, 3}, {0, std::log(2.0f), std::log(3.0f), 0, 0, 0});
  View targets = ws.input(DType::I64, {2}, {2, -1});
  View losses = ws.output(F32, {2}), lse = ws.output(F32, {2});
  ref().cross_entropy(logits, targets, losses, lse);
  expect_close(ws.read(losses), std::vector<double>{std::log(2.0), 0.0}, kF32, "losses");
  expect_close(ws.read(lse), std::vector<double>{std::log(6.0), std::log(3.0)}, kF32, "lse");
  View dlogits = ws.output(F32, {2, 3});
  ref().cross_entropy_backward(logits, targets, lse, ws.input(F32, {2}, {2, 1}), dlogits);
  expect_close(ws.read(dlogits), std::vector<double>{2.0 / 6, 4.0 / 6, 2 * (3.0 / 6 - 1), 0, 0, 0},
               kF32, "dlogits");
}

TEST(ReferenceValues, LayerNormOfOneToFour) {
  // mean 2.5, variance 1.25, rstd = 1/sqrt(1.25) = 0.894427191 (eps 0); y = w*xhat + b.
  Workspace ws(ref());
  View x = ws.input(F32, {1, 4}, {1, 2, 3, 4});
  View y = ws.output(F32, {1, 4}), mean = ws.output(F32, {1}), rstd = ws.output(F32, {1});
  ref().layer_norm(x, ws.input(F32, {4}, {1, 1, 2, 1}), ws.input(F32, {4}, {0, 0, 0, 1}), y, mean,
                   rstd, 0.0f);
  expect_close(ws.read(mean), std::vector<double>{2.5}, kF32, "mean");
  expect_close(ws.read(rstd), std::vector<double>{0.894427191}, kF32, "rstd");
  expect_close(ws.read(y),
               std::vector<double>{-1.341640786, -0.447213595, 2 * 0.447213595, 1 + 1.341640786},
               kF32, "y");
}

TEST(ReferenceValues, EmbeddingLooksUpRows) {
  Workspace ws(ref());
  View table = ws.input(F32, {3, 2}, {0, 1, 10, 11, 20, 21});
  View out = ws.output(F32, {3, 2});
  ref().embedding(ws.input(DType::I32, {3}, {2, 0, 2}), table, out);
  expect_close(ws.read(out), std::vector<float>{20, 21, 0, 1, 20, 21}, kExact, "rows");
}

TEST(ReferenceValues, CausalAttentionOfTwoPositions) {
  // scale 1, D 1, q = (1, 1), k = (0, ln 3), v = (10, 20). Query 0 sees key 0 only: out 10,
  // lse 0. Query 1: scores (0, ln 3), p = (1/4, 3/4), out = 2.5 + 15 = 17.5, lse = ln 4.
  Workspace ws(ref());
  View q = ws.input(F32, {1, 1, 2, 1}, {1, 1}),
       k = ws.input(F32, {1, 1, 2, 1}, {0, std::log(3.0f)});
  View v = ws.input(F32, {1, 1, 2, 1}, {10, 20});
  View out = ws.output(F32, {1, 1, 2, 1}), lse = ws.output(F32, {1, 1, 2});
  ref().attention(q, k, v, out, lse, 1.0f);
  expect_close(ws.read(out), std::vector<double>{10, 17.5}, {1e-5, 1e-6}, "out");
  expect_close(ws.read(lse), std::vector<double>{0, std::log(4.0)}, kF32, "lse");
}

TEST(ReferenceValues, MatmulOfKnownMatricesWithTransposesBatchesAndAccumulate) {
  // [[1, 2, 3], [4, 5, 6]] @ [[7, 8], [9, 10], [11, 12]] = [[58, 64], [139, 154]]; the second
  // batch entry doubles B, and out starts at (1, 1, 1, 1 | 0, 0, 0, 0) to be accumulated into.
  for (int variant = 0; variant < 4; ++variant) {
    bool ta = variant & 1, tb = variant & 2;
    Workspace ws(ref());
    View a = ws.input(
        F32, {6}, ta ? std::vector<float>{1, 4, 2, 5, 3, 6} : std::vector<float>{1, 2, 3, 4, 5, 6});
    // Batch 2: B[1] = 2 * B[0]; A is shared (batch stride 0).
    View b = ws.input(F32, {12},
                      tb ? std::vector<float>{7, 9, 11, 8, 10, 12, 14, 18, 22, 16, 20, 24}
                         : std::vector<float>{7, 8, 9, 10, 11, 12, 14, 16, 18, 20, 22, 24});
    View out = ws.output(F32, {8}, {1, 1, 1, 1, 0, 0, 0, 0});
    MatmulArgs args{2, 2, 2, 3, ta, tb, 0, 6, 4, true};
    ref().matmul(a, b, out, args);
    expect_close(ws.read(out), std::vector<float>{59, 65, 140, 155, 116, 128, 278, 308}, kExact,
                 "matmul variant " + std::to_string(variant));
  }
}

TEST(ReferenceValues, Conv2dWithAndWithoutPadding) {
  // x = 1..9 as a 3x3 image, a 2x2 kernel of ones.
  Workspace ws(ref());
  View x = ws.input(F32, {1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  View w = ws.input(F32, {1, 1, 2, 2}, {1, 1, 1, 1});
  View y = ws.output(F32, {1, 1, 2, 2});
  ref().conv2d(x, w, Workspace::absent(F32, {1}), y, {1, 0});
  expect_close(ws.read(y), std::vector<float>{12, 16, 24, 28}, kExact, "valid");
  // Padding 1, stride 2: windows start at (-1, -1), (-1, 1), (1, -1), (1, 1); bias 0.5.
  View padded = ws.output(F32, {1, 1, 2, 2});
  ref().conv2d(x, w, ws.input(F32, {1}, {0.5f}), padded, {2, 1});
  expect_close(ws.read(padded), std::vector<float>{1.5, 5.5, 11.5, 28.5}, kExact, "padded");
}

TEST(ReferenceValues, MaxPoolIndicesAreFlatPositionsInThePlane) {
  Workspace ws(ref());
  View x = ws.input(F32, {1, 1, 4, 4}, {1, 9, 2, 3, 4, 0, 8, 8, 5, 6, 7, 1, 2, 6, 0, 7});
  View y = ws.output(F32, {1, 1, 2, 2}), indices = ws.output(DType::I64, {1, 1, 2, 2});
  ref().max_pool2d(x, y, indices, 2, 2);
  expect_close(ws.read(y), std::vector<float>{9, 8, 6, 7}, kExact, "max");
  expect_close(ws.read(indices), std::vector<float>{1, 6, 9, 10}, kExact, "first arg-max");
  View dx = ws.output(F32, {1, 1, 4, 4});
  ref().max_pool2d_backward(ws.input(F32, {1, 1, 2, 2}, {1, 2, 3, 4}), indices, dx);
  expect_close(ws.read(dx), std::vector<float>{0, 1, 0, 0, 0, 0, 2, 0, 0, 3, 4, 0, 0, 0, 0, 0},
               kExact, "dx");
}

TEST(ReferenceValues, DropoutMaskKeepsOneMinusPScaled) {
  // Every value is 0 or 1/(1-p); over 100000 draws the kept fraction is within 0.01 of 1 - p.
  for (float p : {0.0f, 0.25f, 0.9f}) {
    const int64_t n = 100000;
    Workspace ws(ref());
    View mask = ws.output(F32, {n});
    ref().dropout_mask(mask, p, 5, 77);
    std::vector<float> values = ws.read(mask);
    int64_t kept = 0;
    for (float v : values) {
      ASSERT_TRUE(v == 0.0f || v == 1.0f / (1.0f - p)) << v;
      kept += v != 0.0f;
    }
    EXPECT_NEAR(static_cast<double>(kept) / n, 1.0 - p, 0.01) << "p " << p;
    // Element i uses counter + i: the mask from counter 78 is this one shifted by one.
    View shifted = ws.output(F32, {n});
    ref().dropout_mask(shifted, p, 5, 78);
    std::vector<float> next = ws.read(shifted);
    EXPECT_TRUE(std::equal(next.begin(), next.end() - 1, values.begin() + 1));
  }
}

TEST(ReferenceValues, SumSquares) {
  Workspace ws(ref());
  EXPECT_EQ(ref().sum_squares(ws.input(DType::BF16, {3}, {1, -2, 3})), 14.0);
}

}  // namespace
}  // namespace tessera::test
