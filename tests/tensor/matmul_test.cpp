// matmul on every backend: the four transpose combinations, batched operands, a 2-D b shared
// by a batch of a, a 2-D a shared by a batch of b, and bf16 inputs with f32 accumulation.
#include "gradcheck.h"

namespace tessera::test {
namespace {

constexpr int64_t M = 3, K = 4, N = 5;

// out (batch..., M, N) = op(a) @ op(b) on the host; a 2-D operand is shared by every batch entry.
std::vector<float> host_matmul(const std::vector<float>& a, const Shape& sa,
                               const std::vector<float>& b, const Shape& sb, bool ta, bool tb) {
  int64_t batch = numel(sa.size() > 2 ? sa : sb) / (sa.size() > 2 ? M * K : K * N);
  int64_t stride_a = sa.size() > 2 ? M * K : 0, stride_b = sb.size() > 2 ? K * N : 0;
  std::vector<float> out(batch * M * N);
  for (int64_t p = 0; p < batch; ++p)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        double acc = 0.0;
        for (int64_t k = 0; k < K; ++k) {
          float av = a[p * stride_a + (ta ? k * M + m : m * K + k)];
          float bv = b[p * stride_b + (tb ? n * K + k : k * N + n)];
          acc += double(av) * bv;
        }
        out[(p * M + m) * N + n] = static_cast<float>(acc);
      }
  return out;
}

Shape with_batch(const Shape& batch, Shape matrix) {
  Shape out = batch;
  out.insert(out.end(), matrix.begin(), matrix.end());
  return out;
}

class MatmulTest : public OpTest {
 protected:
  // One product (forward and gradients) with a of batch `ba` and b of batch `bb`.
  void check(const Shape& ba, const Shape& bb, bool ta, bool tb) {
    Shape sa = with_batch(ba, ta ? Shape{K, M} : Shape{M, K});
    Shape sb = with_batch(bb, tb ? Shape{N, K} : Shape{K, N});
    std::string what = "matmul " + shape_str(sa) + (ta ? "^T" : "") + " @ " + shape_str(sb) +
                       (tb ? "^T" : "");
    std::vector<float> a = matrix_values(numel(sa), 61), b = matrix_values(numel(sb), 62);
    Tensor out = matmul(tensor(a, sa), tensor(b, sb), ta, tb);
    EXPECT_EQ(out.shape(), with_batch(ba.empty() ? bb : ba, {M, N})) << what;
    expect_close(out.to_floats(), host_matmul(a, sa, b, sb, ta, tb), {1e-5, 1e-5}, what);
    // Bilinear, so central differences are exact up to rounding: abs 2e-3 + rel 2e-2.
    gradcheck([&](const std::vector<Tensor>& x) { return matmul(x[0], x[1], ta, tb); },
              {tensor(a, sa), tensor(b, sb)}, matrix_gradcheck(device(), {2e-3, 2e-2}), what);
  }
};

TEST_P(MatmulTest, TwoDimensionalAllTransposes) {
  for (bool ta : {false, true})
    for (bool tb : {false, true}) check({}, {}, ta, tb);
}

TEST_P(MatmulTest, BatchedAllTransposes) {
  for (bool ta : {false, true})
    for (bool tb : {false, true}) check({2, 3}, {2, 3}, ta, tb);
}

TEST_P(MatmulTest, SharedTwoDimensionalB) {
  for (bool ta : {false, true})
    for (bool tb : {false, true}) check({2, 3}, {}, ta, tb);
}

TEST_P(MatmulTest, TwoDimensionalAWithBatchedB) {
  for (bool ta : {false, true})
    for (bool tb : {false, true}) check({}, {2, 3}, ta, tb);
}

TEST_P(MatmulTest, Bf16InputsAccumulateInF32) {
  std::vector<float> a = normal_values(M * K, 63), b = normal_values(K * N, 64);
  for (float& v : a) v = round_to_dtype(v, DType::BF16);
  for (float& v : b) v = round_to_dtype(v, DType::BF16);
  Tensor out = matmul(Tensor::from_floats(a, {M, K}, DType::BF16, device()),
                      Tensor::from_floats(b, {K, N}, DType::BF16, device()));
  EXPECT_EQ(out.dtype(), DType::BF16);
  std::vector<float> expected = host_matmul(a, {M, K}, b, {K, N}, false, false);
  // The f32 sum rounded once to bf16: within one bf16 ulp (2^-7 relative) of the exact sum.
  expect_close(out.to_floats(), expected, {1e-3, 8e-3}, "bf16 matmul");
}

INSTANTIATE_FOR_BACKENDS(MatmulTest);

}  // namespace
}  // namespace tessera::test
