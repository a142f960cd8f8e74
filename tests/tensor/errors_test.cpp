// Error messages of the Tensor layer (each test checks the text), and dispatch to a partial
// backend: strict mode refuses a kernel the device lacks; otherwise the CPU runs it.
#include <algorithm>
#include <cmath>

#include "backends/cpu/reference_backend.h"
#include "op_test.h"

namespace tessera::test {
namespace {

class ErrorsTest : public OpTest {};

TEST_P(ErrorsTest, MatmulShapeMismatchNamesBothShapes) {
  EXPECT_ERROR_CONTAINS(matmul(randn({2, 3}, 1), randn({4, 5}, 2)),
                        "matmul: shapes (2, 3) and (4, 5) do not agree");
  EXPECT_ERROR_CONTAINS(matmul(randn({2, 3}, 1), randn({2, 5}, 2), false, true),
                        "matmul: shapes (2, 3) and (2, 5)^T do not agree");
  EXPECT_ERROR_CONTAINS(matmul(randn({2, 3, 4}, 1), randn({3, 4, 5}, 2)),
                        "matmul: shapes (2, 3, 4) and (3, 4, 5) do not agree");
  EXPECT_ERROR_CONTAINS(matmul(randn({3}, 1), randn({3, 4}, 2)),
                        "matmul: operands need at least 2 dimensions, got (3,) and (3, 4)");
}

TEST_P(ErrorsTest, BroadcastMismatchNamesTheOpAndShapes) {
  EXPECT_ERROR_CONTAINS(add(randn({2, 3}, 1), randn({4}, 2)),
                        "add: shapes (2, 3) and (4,) cannot be broadcast together");
  EXPECT_ERROR_CONTAINS(mul(randn({2, 1, 5}, 1), randn({2, 3, 4}, 2)),
                        "mul: shapes (2, 1, 5) and (2, 3, 4) cannot be broadcast together");
  EXPECT_ERROR_CONTAINS(add(randn({2}, 1), ids({1, 2}, {2})),
                        "add: needs floating-point operands, got f32 and i64");
}

TEST_P(ErrorsTest, EmbeddingIdOutOfRangeNamesTheIdAndPosition) {
  EXPECT_ERROR_CONTAINS(embedding(ids({0, 3, 7, 1}, {2, 2}), randn({4, 3}, 1)),
                        "embedding: token id 7 at position 2 is out of range [0, 4)");
  EXPECT_ERROR_CONTAINS(embedding(ids({-1}, {1}), randn({4, 3}, 1)),
                        "embedding: token id -1 at position 0 is out of range [0, 4)");
  EXPECT_ERROR_CONTAINS(embedding(randn({2}, 1), randn({4, 3}, 1)),
                        "embedding: ids must be an integer (i32 or i64) tensor, got f32");
}

TEST_P(ErrorsTest, CrossEntropyTargetOutOfRange) {
  EXPECT_ERROR_CONTAINS(cross_entropy(randn({3, 5}, 1), ids({0, 5, 2}, {3})),
                        "cross_entropy: target 5 at position 1 is out of range for 5 classes");
  EXPECT_ERROR_CONTAINS(cross_entropy(randn({3, 5}, 1), ids({0, 1}, {2})),
                        "cross_entropy: logits (3, 5) and targets (2,) do not match");
}

TEST_P(ErrorsTest, ReshapeOfAWrongSize) {
  EXPECT_ERROR_CONTAINS(reshape(randn({2, 3}, 1), {4, 2}),
                        "reshape: cannot view a tensor of shape (2, 3) (6 elements) as (4, 2)");
  EXPECT_ERROR_CONTAINS(reshape(randn({2, 3}, 1), {4, -1}),
                        "reshape: cannot view a tensor of shape (2, 3) (6 elements) as (4, -1)");
  EXPECT_ERROR_CONTAINS(reshape(randn({2, 3}, 1), {-1, -1}), "reshape: more than one -1");
}

TEST_P(ErrorsTest, SliceOutOfRange) {
  EXPECT_ERROR_CONTAINS(slice(randn({4, 5}, 1), 1, 2, 6),
                        "slice: range [2, 6) is outside dimension 1 of size 5 (shape (4, 5))");
  EXPECT_ERROR_CONTAINS(slice(randn({4, 5}, 1), 0, 3, 2),
                        "slice: range [3, 2) is outside dimension 0 of size 4");
  EXPECT_ERROR_CONTAINS(slice(randn({4, 5}, 1), 2, 0, 1),
                        "slice: dimension 2 is out of range for rank 2");
}

TEST_P(ErrorsTest, SetRequiresGradOnAnIntegerTensor) {
  Tensor t = ids({1, 2, 3}, {3});
  EXPECT_ERROR_CONTAINS(t.set_requires_grad(true),
                        "only floating-point tensors can require gradients (dtype i64)");
  EXPECT_FALSE(t.requires_grad());
}

TEST_P(ErrorsTest, LayoutAndNnShapeMismatches) {
  EXPECT_ERROR_CONTAINS(concat({randn({2, 3}, 1), randn({3, 3}, 2)}, 1),
                        "concat: shape (3, 3) (f32) does not match (2, 3) (f32) outside dimension 1");
  EXPECT_ERROR_CONTAINS(expand(randn({2, 3}, 1), {4, 3, 3}),
                        "expand: shapes (2, 3) and (4, 3, 3) cannot be broadcast together");
  EXPECT_ERROR_CONTAINS(expand(randn({3, 1}, 1), {1, 4}),
                        "expand: shape (3, 1) cannot be expanded to (1, 4)");
  EXPECT_ERROR_CONTAINS(permute(randn({2, 3}, 1), {0, 0}), "permute: dimension 0 repeated");
  EXPECT_ERROR_CONTAINS(layer_norm(randn({2, 4}, 1), randn({3}, 2), randn({4}, 3)),
                        "layer_norm: weight (3,) and bias (4,) must have shape (4,) for input (2, 4)");
  EXPECT_ERROR_CONTAINS(conv2d(randn({1, 3, 5, 5}, 1), randn({2, 4, 3, 3}, 2), Tensor()),
                        "conv2d: input (1, 3, 5, 5) and weight (2, 4, 3, 3) do not match");
  EXPECT_ERROR_CONTAINS(max_pool2d(randn({1, 1, 2, 2}, 1), 3, 1),
                        "max_pool2d: kernel 3 and stride 1 do not fit input (1, 1, 2, 2)");
  EXPECT_ERROR_CONTAINS(causal_attention(randn({1, 1, 2, 4}, 1), randn({1, 1, 3, 4}, 2),
                                         randn({1, 1, 2, 4}, 3)),
                        "causal_attention: q (1, 1, 2, 4), k (1, 1, 3, 4) and v (1, 1, 2, 4) must "
                        "share one (B, H, T, D) shape");
  EXPECT_ERROR_CONTAINS(causal_self_attention(randn({2, 3, 47}, 1), 2),
                        "causal_self_attention: qkv (2, 3, 47) is not (B, T, 3C) with C a multiple of the 2 heads");
  EXPECT_ERROR_CONTAINS(causal_self_attention(randn({2, 3, 48}, 1), 3),
                        "causal_self_attention: qkv (2, 3, 48) is not (B, T, 3C) with C a multiple of the 3 heads");
  Generator gen{1, 0};
  EXPECT_ERROR_CONTAINS(dropout(randn({2}, 1), 1.0f, gen, true),
                        "dropout: probability 1 is outside [0, 1)");
  EXPECT_ERROR_CONTAINS(sum(randn({2, 3}, 1), {2}), "sum: dimension 2 is out of range for rank 2");
}

TEST_P(ErrorsTest, OperandsOnDifferentDevicesAndUnknownDevices) {
  for (const std::string& other : harness_backends()) {
    if (other == device()) continue;
    Tensor here = randn({2}, 1), there = randn({2}, 2).to_device(other);
    EXPECT_ERROR_CONTAINS(add(here, there), "add: operands are on different devices ('" +
                                                device() + "' and '" + other + "')");
  }
  EXPECT_ERROR_CONTAINS(Tensor::zeros({2}, DType::F32, "no-such-device"),
                        "unknown device 'no-such-device': the registered backends are");
}

INSTANTIATE_FOR_BACKENDS(ErrorsTest);

// The reference backend without the unary kernel (relu, gelu, exp, ...), under a test-only name
// that keeps it out of the per-backend runs.
class PartialBackend : public ReferenceBackend {
 public:
  std::string name() const override { return "test-partial"; }
  bool supports(Kernel kernel, DType dtype) const override {
    return kernel != Kernel::Unary && ReferenceBackend::supports(kernel, dtype);
  }
};
REGISTER_BACKEND("test-partial", PartialBackend);

// Sets strict dispatch for one test and restores the previous mode.
class StrictMode {
 public:
  explicit StrictMode(bool strict) : previous_(strict_dispatch()) { set_strict_dispatch(strict); }
  ~StrictMode() { set_strict_dispatch(previous_); }

 private:
  bool previous_;
};

TEST(DispatchTest, PartialBackendIsNotInTheHarnessList) {
  std::vector<std::string> names = harness_backends();
  EXPECT_EQ(std::find(names.begin(), names.end(), "test-partial"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "cpu-ref"), names.end());
}

TEST(DispatchTest, StrictModeRefusesAKernelTheDeviceLacks) {
  StrictMode strict(true);
  Tensor x = Tensor::from_floats({-1.0f, 0.5f, 2.0f}, {3}, DType::F32, "test-partial");
  EXPECT_ERROR_CONTAINS(gelu(x),
                        "kernel 'unary' is not supported on device 'test-partial' for dtype f32 "
                        "(strict mode forbids the CPU fallback)");
  // Kernels the device has still run on it.
  EXPECT_EQ(scale(x, 2.0f).to_floats(), (std::vector<float>{-2.0f, 1.0f, 4.0f}));
}

TEST(DispatchTest, NonStrictModeFallsBackToTheCpuWithTheSameValues) {
  StrictMode strict(false);
  const std::vector<float> values{-1.0f, 0.5f, 2.0f};
  Tensor x = Tensor::from_floats(values, {3}, DType::F32, "test-partial");
  Tensor y = gelu(x);
  EXPECT_EQ(y.device(), "test-partial") << "the result stays on the tensor's device";
  // The fallback runs the "cpu" backend's kernel: the reference values within f32 rounding.
  Tensor reference = gelu(Tensor::from_floats(values, {3}, DType::F32, "cpu-ref"));
  expect_close(y.to_floats(), reference.to_floats(), {1e-6, 1e-6}, "gelu via the fallback");
}

}  // namespace
}  // namespace tessera::test
