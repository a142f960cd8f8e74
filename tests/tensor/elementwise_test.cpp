// Elementwise ops on every backend: broadcasting binary ops, scalar ops and unary functions,
// forward values against host loops and gradients against finite differences.
#include <cmath>
#include <functional>

#include "gradcheck.h"

namespace tessera::test {
namespace {

using HostBinary = std::function<float(float, float)>;
using TensorBinary = std::function<Tensor(const Tensor&, const Tensor&)>;

// out = op(a, b) with numpy broadcasting, computed index by index on the host.
std::vector<float> host_broadcast(const std::vector<float>& a, const Shape& sa,
                                  const std::vector<float>& b, const Shape& sb,
                                  const HostBinary& op, Shape* out_shape) {
  size_t rank = std::max(sa.size(), sb.size());
  auto aligned = [rank](const Shape& s) {
    Shape out(rank - s.size(), 1);
    out.insert(out.end(), s.begin(), s.end());
    return out;
  };
  Shape pa = aligned(sa), pb = aligned(sb), so(rank);
  for (size_t d = 0; d < rank; ++d) so[d] = std::max(pa[d], pb[d]);
  Strides ta = contiguous_strides(pa), tb = contiguous_strides(pb), to = contiguous_strides(so);
  std::vector<float> out(numel(so));
  for (int64_t i = 0; i < numel(so); ++i) {
    int64_t ia = 0, ib = 0;
    for (size_t d = 0; d < rank; ++d) {
      int64_t index = (i / to[d]) % so[d];
      if (pa[d] != 1) ia += index * ta[d];
      if (pb[d] != 1) ib += index * tb[d];
    }
    out[i] = op(a[ia], b[ib]);
  }
  *out_shape = so;
  return out;
}

struct BinaryCase {
  const char* name;
  TensorBinary op;
  HostBinary host;
  Tolerance forward;  // against the host result in f32
};

struct BroadcastCase {
  Shape a, b;
};

const BinaryCase kBinaryOps[] = {
    {"add", [](const Tensor& a, const Tensor& b) { return a + b; },
     [](float a, float b) { return a + b; }, {0.0, 0.0}},
    {"sub", [](const Tensor& a, const Tensor& b) { return a - b; },
     [](float a, float b) { return a - b; }, {0.0, 0.0}},
    {"mul", [](const Tensor& a, const Tensor& b) { return a * b; },
     [](float a, float b) { return a * b; }, {0.0, 0.0}},
    // A backend may divide through a reciprocal: allow a couple of ulps.
    {"div", [](const Tensor& a, const Tensor& b) { return a / b; },
     [](float a, float b) { return a / b; }, {1e-7, 3e-7}},
};

const BroadcastCase kBroadcasts[] = {
    {{2, 3}, {2, 3}},        // same shape
    {{3, 4}, {4}},           // (N, C) + (C)
    {{4}, {3, 4}},           // (C) + (N, C)
    {{2, 1, 5}, {2, 3, 1}},  // (B, 1, T) + (B, H, 1)
    {{2, 3}, {1}},           // scalar-like (1,)
    {{1}, {2, 3}},
};

class ElementwiseTest : public OpTest {};

TEST_P(ElementwiseTest, BinaryOpsBroadcastForwardAndGradients) {
  for (const BinaryCase& op : kBinaryOps) {
    for (const BroadcastCase& bc : kBroadcasts) {
      std::string what = std::string(op.name) + " " + shape_str(bc.a) + " with " + shape_str(bc.b);
      std::vector<float> a = normal_values(numel(bc.a), 11);
      // b away from 0 so that division is well conditioned.
      std::vector<float> b = uniform_values(numel(bc.b), 12, 0.5f, 2.0f);
      for (size_t i = 0; i < b.size(); i += 2) b[i] = -b[i];
      Shape expected_shape;
      std::vector<float> expected = host_broadcast(a, bc.a, b, bc.b, op.host, &expected_shape);
      Tensor out = op.op(tensor(a, bc.a), tensor(b, bc.b));
      EXPECT_EQ(out.shape(), expected_shape) << what;
      EXPECT_EQ(out.device(), device()) << what;
      expect_close(out.to_floats(), expected, op.forward, what);

      // eps 1e-2 (|b| >= 0.5 keeps 1/b smooth); tolerance abs 2e-3 + rel 2e-2.
      gradcheck([&](const std::vector<Tensor>& x) { return op.op(x[0], x[1]); },
                {tensor(a, bc.a), tensor(b, bc.b)}, {1e-2f, {2e-3, 2e-2}}, what);
    }
  }
}

TEST_P(ElementwiseTest, MixedFloatDTypesComputeInF32) {
  std::vector<float> a = normal_values(6, 21), b = normal_values(6, 22);
  Tensor narrow = Tensor::from_floats(b, {2, 3}, DType::BF16, device());
  Tensor out = add(tensor(a, {2, 3}), narrow);
  EXPECT_EQ(out.dtype(), DType::F32);
  std::vector<float> expected(6);
  for (size_t i = 0; i < 6; ++i) expected[i] = a[i] + round_to_dtype(b[i], DType::BF16);
  expect_close(out.to_floats(), expected, {0.0, 0.0}, "f32 + bf16");
}

struct UnaryCase {
  const char* name;
  std::function<Tensor(const Tensor&)> op;
  std::function<float(float)> host;
  std::function<std::vector<float>(size_t)> inputs;  // chosen where the op is smooth
  Tolerance forward;
  GradcheckOptions grad;
};

float host_gelu(float x) {
  const double c = std::sqrt(2.0 / M_PI);
  return static_cast<float>(0.5 * x * (1.0 + std::tanh(c * (x + 0.044715 * x * x * x))));
}

std::vector<float> normal_inputs(size_t n) { return normal_values(n, 31); }
std::vector<float> positive_inputs(size_t n) { return uniform_values(n, 32, 0.5f, 3.0f); }

const UnaryCase kUnaryOps[] = {
    {"scale", [](const Tensor& x) { return scale(x, 2.5f); }, [](float x) { return x * 2.5f; },
     normal_inputs, {1e-7, 1e-7}, {1e-2f, {1e-3, 1e-2}}},
    {"add_scalar", [](const Tensor& x) { return add_scalar(x, -0.75f); },
     [](float x) { return x - 0.75f; }, normal_inputs, {1e-7, 1e-7}, {1e-2f, {1e-3, 1e-2}}},
    {"neg", [](const Tensor& x) { return neg(x); }, [](float x) { return -x; }, normal_inputs,
     {0.0, 0.0}, {1e-2f, {1e-3, 1e-2}}},
    // |x| >= 0.1 > eps keeps every finite difference on one side of relu's kink.
    {"relu", [](const Tensor& x) { return relu(x); }, [](float x) { return x > 0 ? x : 0.0f; },
     [](size_t n) { return away_from_zero(n, 33, 0.1f); }, {0.0, 0.0}, {1e-2f, {1e-3, 1e-2}}},
    {"gelu", [](const Tensor& x) { return gelu(x); }, host_gelu, normal_inputs, {1e-6, 1e-5},
     {1e-2f, {2e-3, 2e-2}}},
    {"exp", [](const Tensor& x) { return exp(x); }, [](float x) { return std::exp(x); },
     normal_inputs, {1e-6, 1e-5}, {1e-2f, {2e-3, 2e-2}}},
    {"log", [](const Tensor& x) { return log(x); }, [](float x) { return std::log(x); },
     positive_inputs, {1e-6, 1e-5}, {1e-2f, {2e-3, 2e-2}}},
    {"sqrt", [](const Tensor& x) { return sqrt(x); }, [](float x) { return std::sqrt(x); },
     positive_inputs, {1e-6, 1e-6}, {1e-2f, {2e-3, 2e-2}}},
};

TEST_P(ElementwiseTest, UnaryOpsForwardAndGradients) {
  const Shape shape{3, 7};
  for (const UnaryCase& op : kUnaryOps) {
    std::vector<float> x = op.inputs(numel(shape));
    std::vector<float> expected(x.size());
    for (size_t i = 0; i < x.size(); ++i) expected[i] = op.host(x[i]);
    Tensor out = op.op(tensor(x, shape));
    EXPECT_EQ(out.shape(), shape) << op.name;
    expect_close(out.to_floats(), expected, op.forward, op.name);
    gradcheck([&](const std::vector<Tensor>& in) { return op.op(in[0]); }, {tensor(x, shape)},
              op.grad, op.name);
  }
}

TEST_P(ElementwiseTest, UnaryOpsReadNonContiguousInputs) {
  std::vector<float> x = normal_values(6, 41);
  Tensor t = transpose(tensor(x, {2, 3}), 0, 1);  // (3, 2), strided
  std::vector<float> out = exp(t).to_floats();
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 2; ++j)
      EXPECT_NEAR(out[i * 2 + j], std::exp(x[j * 3 + i]), 1e-5 * std::exp(x[j * 3 + i]));
}

TEST_P(ElementwiseTest, Bf16TensorsComputeInF32AndRoundOnStore) {
  const Shape shape{4, 5};
  std::vector<float> a = normal_values(20, 42), b = uniform_values(20, 43, 0.5f, 2.0f);
  for (float& v : a) v = round_to_dtype(v, DType::BF16);
  for (float& v : b) v = round_to_dtype(v, DType::BF16);
  Tensor ta = Tensor::from_floats(a, shape, DType::BF16, device());
  Tensor tb = Tensor::from_floats(b, shape, DType::BF16, device());
  // One rounding of the f32 result to bf16: within one bf16 ulp (2^-8 relative, doubled for
  // a backend whose f32 result differs in its last bit across a rounding boundary).
  const Tolerance one_ulp{1e-6, 8e-3};
  for (const BinaryCase& op : kBinaryOps) {
    Tensor out = op.op(ta, tb);
    EXPECT_EQ(out.dtype(), DType::BF16) << op.name;
    std::vector<float> expected(20);
    for (size_t i = 0; i < 20; ++i) expected[i] = round_to_dtype(op.host(a[i], b[i]), DType::BF16);
    expect_close(out.to_floats(), expected, one_ulp, std::string("bf16 ") + op.name);
  }
  for (const UnaryCase& op : kUnaryOps) {
    std::vector<float> x = op.inputs(20);
    for (float& v : x) v = round_to_dtype(v, DType::BF16);
    Tensor out = op.op(Tensor::from_floats(x, shape, DType::BF16, device()));
    EXPECT_EQ(out.dtype(), DType::BF16) << op.name;
    std::vector<float> expected(20);
    for (size_t i = 0; i < 20; ++i) expected[i] = round_to_dtype(op.host(x[i]), DType::BF16);
    expect_close(out.to_floats(), expected, one_ulp, std::string("bf16 ") + op.name);
  }
}

INSTANTIATE_FOR_BACKENDS(ElementwiseTest);

}  // namespace
}  // namespace tessera::test
