// Neural-network ops on every backend: softmax, log-softmax, cross-entropy, layer norm,
// embedding, causal attention (also on a fused qkv projection) and dropout, against host computations and finite differences.
#include <cmath>

#include "gradcheck.h"

namespace tessera::test {
namespace {

class NnTest : public OpTest {};

// Row-wise softmax over the last dimension of length n.
std::vector<double> host_softmax(const std::vector<float>& x, int64_t n) {
  std::vector<double> y(x.size());
  for (size_t row = 0; row < x.size() / n; ++row) {
    double top = x[row * n], total = 0.0;
    for (int64_t j = 0; j < n; ++j) top = std::max(top, double(x[row * n + j]));
    for (int64_t j = 0; j < n; ++j) total += std::exp(x[row * n + j] - top);
    for (int64_t j = 0; j < n; ++j) y[row * n + j] = std::exp(x[row * n + j] - top) / total;
  }
  return y;
}

TEST_P(NnTest, SoftmaxAndLogSoftmax) {
  for (const Shape& shape : {Shape{3, 5}, Shape{2, 3, 4}}) {
    int64_t n = shape.back();
    std::vector<float> x = normal_values(numel(shape), 71, 2.0f);
    std::vector<double> p = host_softmax(x, n);
    std::vector<float> expected(p.begin(), p.end()), expected_log(p.size());
    for (size_t i = 0; i < p.size(); ++i) expected_log[i] = static_cast<float>(std::log(p[i]));
    std::string what = "softmax " + shape_str(shape);
    expect_close(softmax(tensor(x, shape)).to_floats(), expected, {1e-6, 1e-5}, what);
    expect_close(log_softmax(tensor(x, shape)).to_floats(), expected_log, {1e-5, 1e-5},
                 "log_" + what);
    gradcheck([](const std::vector<Tensor>& in) { return softmax(in[0]); }, {tensor(x, shape)},
              {1e-2f, {2e-3, 2e-2}}, what);
    gradcheck([](const std::vector<Tensor>& in) { return log_softmax(in[0]); },
              {tensor(x, shape)}, {1e-2f, {2e-3, 2e-2}}, "log_" + what);
  }
}

TEST_P(NnTest, CrossEntropyWithAnIgnoredTarget) {
  const int64_t rows = 4, classes = 5;
  std::vector<float> logits = normal_values(rows * classes, 72, 1.5f);
  const std::vector<int64_t> targets{1, -1, 4, 0};  // row 1 is ignored
  double total = 0.0;
  for (int64_t r = 0; r < rows; ++r) {
    if (targets[r] < 0) continue;
    double top = -1e30, sum_exp = 0.0;
    for (int64_t c = 0; c < classes; ++c) top = std::max(top, double(logits[r * classes + c]));
    for (int64_t c = 0; c < classes; ++c) sum_exp += std::exp(logits[r * classes + c] - top);
    total += top + std::log(sum_exp) - logits[r * classes + targets[r]];
  }
  const float expected = static_cast<float>(total / 3.0);  // mean over the 3 counted rows
  for (DType id_dtype : {DType::I64, DType::I32}) {
    Tensor loss = cross_entropy(tensor(logits, {rows, classes}), ids(targets, {rows}, id_dtype));
    EXPECT_EQ(loss.shape(), Shape{});
    EXPECT_NEAR(loss.item(), expected, 1e-5 * std::fabs(expected) + 1e-6);
  }
  gradcheck([](const std::vector<Tensor>& in) { return cross_entropy(in[0], in[1]); },
            {tensor(logits, {rows, classes}), ids(targets, {rows})}, {1e-2f, {1e-3, 2e-2}},
            "cross_entropy");

  Tensor x = tensor(logits, {rows, classes});
  x.set_requires_grad(true);
  cross_entropy(x, ids(targets, {rows})).backward();
  std::vector<float> grad = x.grad().to_floats();
  for (int64_t c = 0; c < classes; ++c) EXPECT_EQ(grad[1 * classes + c], 0.0f) << "ignored row";
}

TEST_P(NnTest, LayerNorm) {
  const Shape shape{2, 3, 6};
  const int64_t channels = 6;
  const float eps = 1e-5f;
  std::vector<float> x = normal_values(numel(shape), 73, 1.5f);
  std::vector<float> w = normal_values(channels, 74), b = normal_values(channels, 75);
  std::vector<float> expected(x.size());
  for (size_t row = 0; row < x.size() / channels; ++row) {
    double mu = 0.0, var = 0.0;
    for (int64_t c = 0; c < channels; ++c) mu += x[row * channels + c];
    mu /= channels;
    for (int64_t c = 0; c < channels; ++c) var += std::pow(x[row * channels + c] - mu, 2);
    var /= channels;
    for (int64_t c = 0; c < channels; ++c)
      expected[row * channels + c] =
          static_cast<float>((x[row * channels + c] - mu) / std::sqrt(var + eps) * w[c] + b[c]);
  }
  Tensor y = layer_norm(tensor(x, shape), tensor(w, {channels}), tensor(b, {channels}), eps);
  EXPECT_EQ(y.shape(), shape);
  expect_close(y.to_floats(), expected, {1e-5, 1e-5}, "layer_norm");
  // eps 1e-2 on inputs of scale 1.5: abs 3e-3 + rel 2e-2.
  gradcheck([eps](const std::vector<Tensor>& in) { return layer_norm(in[0], in[1], in[2], eps); },
            {tensor(x, shape), tensor(w, {channels}), tensor(b, {channels})},
            {1e-2f, {3e-3, 2e-2}}, "layer_norm");
}

TEST_P(NnTest, EmbeddingGathersRowsAndAccumulatesRepeatedIds) {
  const int64_t vocab = 4, channels = 5;
  std::vector<float> table = normal_values(vocab * channels, 76);
  const std::vector<int64_t> id_values{1, 0, 1, 3, 1, 2};  // id 1 three times
  for (DType id_dtype : {DType::I64, DType::I32}) {
    Tensor t = tensor(table, {vocab, channels});
    t.set_requires_grad(true);
    Tensor out = embedding(ids(id_values, {2, 3}, id_dtype), t);
    EXPECT_EQ(out.shape(), (Shape{2, 3, channels}));
    std::vector<float> expected;
    for (int64_t id : id_values)
      expected.insert(expected.end(), table.begin() + id * channels,
                      table.begin() + (id + 1) * channels);
    expect_close(out.to_floats(), expected, {0.0, 0.0}, "embedding forward");

    std::vector<float> seed = normal_values(6 * channels, 77);
    out.backward(tensor(seed, {2, 3, channels}));
    std::vector<float> dtable(vocab * channels, 0.0f);
    for (size_t i = 0; i < id_values.size(); ++i)
      for (int64_t c = 0; c < channels; ++c)
        dtable[id_values[i] * channels + c] += seed[i * channels + c];
    expect_close(t.grad().to_floats(), dtable, {1e-6, 1e-6}, "embedding table gradient");
  }
  gradcheck([](const std::vector<Tensor>& in) { return embedding(in[0], in[1]); },
            {ids(id_values, {2, 3}), tensor(table, {vocab, channels})}, {1e-2f, {1e-3, 1e-2}},
            "embedding");
}

TEST_P(NnTest, CausalAttention) {
  const int64_t B = 2, H = 2, T = 5, D = 4;
  const Shape shape{B, H, T, D};
  std::vector<float> q = matrix_values(numel(shape), 78), k = matrix_values(numel(shape), 79),
                     v = matrix_values(numel(shape), 80);
  std::vector<float> expected(q.size());
  const double scale_factor = 1.0 / std::sqrt(double(D));
  for (int64_t bh = 0; bh < B * H; ++bh)
    for (int64_t t = 0; t < T; ++t) {
      std::vector<double> p(t + 1);
      double top = -1e30, total = 0.0;
      for (int64_t j = 0; j <= t; ++j) {  // causal: keys up to the query's position
        double s = 0.0;
        for (int64_t d = 0; d < D; ++d) s += double(q[(bh * T + t) * D + d]) * k[(bh * T + j) * D + d];
        p[j] = s * scale_factor;
        top = std::max(top, p[j]);
      }
      for (double& s : p) total += (s = std::exp(s - top));
      for (int64_t d = 0; d < D; ++d) {
        double acc = 0.0;
        for (int64_t j = 0; j <= t; ++j) acc += p[j] / total * v[(bh * T + j) * D + d];
        expected[(bh * T + t) * D + d] = static_cast<float>(acc);
      }
    }
  Tensor out = causal_attention(tensor(q, shape), tensor(k, shape), tensor(v, shape));
  EXPECT_EQ(out.shape(), shape);
  // On a chip, S = Q K^T is exact on the grid, but P goes through the matrix engine as bf16 (a
  // relative error of at most 2^-9 each): out = sum_j P_j v_j / l moves by at most 2^-9 max |v|
  // < 2^-7 (v within (-4, 4)). The backward rounds P and dS likewise, which finite differences of
  // the chip's own forward would amplify by 1 / (2 eps): they are taken on cpu-ref's forward, and
  // the chip's autograd gradients meet them at the CPU's tolerance.
  const Tolerance forward = on_chip() ? Tolerance{1e-5 + 1.0 / 128, 1e-5} : Tolerance{1e-5, 1e-5};
  expect_close(out.to_floats(), expected, forward, "causal_attention");
  GradcheckOptions options = matrix_gradcheck(device(), {2e-3, 2e-2});
  if (on_chip()) options.difference_device = "cpu-ref";
  gradcheck([](const std::vector<Tensor>& in) { return causal_attention(in[0], in[1], in[2]); },
            {tensor(q, shape), tensor(k, shape), tensor(v, shape)}, options, "causal_attention");
}

// causal_self_attention reads q, k and v where they lie in the (B, T, 3C) projection and writes
// its output and the gradient of qkv in place: the same values, bit for bit, as causal_attention
// on contiguous copies of the permuted column blocks (the same arithmetic on the same numbers),
// in f32 and bf16, with one block of rows and (T = 130 on a chip) more than one.
TEST_P(NnTest, CausalSelfAttentionEqualsCausalAttentionOnCopiedHeads) {
  struct Case {
    int64_t B, T, C, H;
  };
  for (DType dtype : {DType::F32, DType::BF16})
    for (Case c : {Case{2, 12, 16, 2}, Case{1, 130, 24, 3}}) {
      std::string what = fmt::format("{} B={} T={} C={} H={}", dtype_name(dtype), c.B, c.T, c.C, c.H);
      std::vector<float> x = bf16_grid_values(c.B * c.T * 3 * c.C, 91, 0.5f);
      Tensor weights = tensor(bf16_grid_values(c.B * c.T * c.C, 92), {c.B, c.T, c.C}).to(dtype);
      auto run = [&](bool fused) {
        Tensor qkv = tensor(x, {c.B, c.T, 3 * c.C}).to(dtype).detach();
        qkv.set_requires_grad(true);
        Tensor y;
        if (fused) {
          y = causal_self_attention(qkv, c.H);
        } else {
          int64_t D = c.C / c.H;
          auto heads = [&](int64_t part) {
            return contiguous(permute(reshape(slice(qkv, 2, part * c.C, (part + 1) * c.C), {c.B, c.T, c.H, D}),
                                      {0, 2, 1, 3}));
          };
          y = reshape(contiguous(permute(causal_attention(heads(0), heads(1), heads(2)), {0, 2, 1, 3})),
                      {c.B, c.T, c.C});
        }
        EXPECT_EQ(y.shape(), (Shape{c.B, c.T, c.C})) << what;
        sum(mul(y, weights)).backward();
        return std::make_pair(y.to_floats(), qkv.grad().to_floats());
      };
      auto [fused_y, fused_grad] = run(true);
      auto [copied_y, copied_grad] = run(false);
      EXPECT_EQ(fused_y, copied_y) << what;
      EXPECT_EQ(fused_grad, copied_grad) << what;
    }
}

TEST_P(NnTest, DropoutInTrainingFollowsTheCounterBasedMask) {
  const int64_t n = 10000;
  const float p = 0.3f;
  std::vector<float> x = normal_values(n, 81);
  Generator gen{1234, 77};
  Tensor input = tensor(x, {100, 100});
  input.set_requires_grad(true);
  Tensor y = dropout(input, p, gen, /*training=*/true);
  EXPECT_EQ(gen.offset, 77u + n) << "dropout draws numel(x) counters";
  std::vector<float> out = y.to_floats();
  int64_t zeros = 0;
  std::vector<float> mask(n);
  for (int64_t i = 0; i < n; ++i) {
    mask[i] = random_uniform(1234, 77 + i) >= p ? 1.0f / (1.0f - p) : 0.0f;
    zeros += mask[i] == 0.0f;
  }
  // The drop rate is p within 4.4 standard deviations (sqrt(p (1 - p) / n) = 0.0046).
  EXPECT_NEAR(double(zeros) / n, p, 0.02);
  std::vector<float> expected(n);
  for (int64_t i = 0; i < n; ++i) expected[i] = x[i] * mask[i];
  expect_close(out, expected, {1e-7, 1e-6}, "dropout output");

  sum(y).backward();
  expect_close(input.grad().to_floats(), mask, {1e-7, 1e-6}, "dropout gradient = mask");
}

TEST_P(NnTest, DropoutIsDeterministicAndIdentityInEvaluation) {
  Tensor x = randn({4, 50}, 82);
  Generator a{5, 0}, b{5, 0}, c{6, 0};
  std::vector<float> ya = dropout(x, 0.5f, a, true).to_floats();
  EXPECT_EQ(ya, dropout(x, 0.5f, b, true).to_floats()) << "same generator state, same mask";
  EXPECT_NE(ya, dropout(x, 0.5f, c, true).to_floats()) << "another seed, another mask";
  EXPECT_NE(ya, dropout(x, 0.5f, a, true).to_floats()) << "the generator moved on";
  EXPECT_EQ(dropout(x, 0.5f, a, /*training=*/false).to_floats(), x.to_floats());
  EXPECT_EQ(dropout(x, 0.0f, a, true).to_floats(), x.to_floats());
}

INSTANTIATE_FOR_BACKENDS(NnTest);

}  // namespace
}  // namespace tessera::test
