// Llama: RMSNorm and rotary embeddings against their formulas computed here, every parameter's
// gradient against central finite differences on a tiny configuration, AdamW steps on
// llama-mini lowering the loss, and the 7B preset's parameter count (Hugging Face's
// Llama-2-7b: 6,738,415,616).
#include <gtest/gtest.h>

#include <cmath>

#include "common/error_text.h"
#include "nn/llama.h"
#include "nn/optimizer.h"
#include "tensor/ops.h"

namespace tessera {
namespace {

std::vector<float> values(size_t n, uint64_t seed) {
  Generator gen{seed, 0};
  return Tensor::randn({static_cast<int64_t>(n)}, gen).to_floats();
}

TEST(Llama, RmsNormDividesByTheRootMeanSquare) {
  Generator gen{1, 0};
  RmsNorm norm(4, InitContext{gen, "cpu"}, 1e-5f);
  norm.weight.copy_from(Tensor::from_floats({1, 2, 3, 4}, {4}));
  std::vector<float> x = values(8, 2);
  std::vector<float> y = norm.forward(Tensor::from_floats(x, {2, 4})).to_floats();
  for (int row = 0; row < 2; ++row) {
    double squares = 0;
    for (int j = 0; j < 4; ++j) squares += double(x[row * 4 + j]) * x[row * 4 + j];
    double rms = std::sqrt(squares / 4 + 1e-5);
    for (int j = 0; j < 4; ++j) EXPECT_NEAR(y[row * 4 + j], x[row * 4 + j] / rms * (j + 1), 1e-5);
  }
}

TEST(Llama, RotaryEmbeddingRotatesPairsOfTheTwoHalves) {
  const int64_t T = 3, D = 4;
  auto [cos, sin] = rotary_tables(T, D, 10000.0f, "cpu");
  std::vector<float> x = values(2 * T * D, 3);  // (2, T, D)
  std::vector<float> y = apply_rotary(Tensor::from_floats(x, {2, T, D}), cos, sin).to_floats();
  for (int64_t b = 0; b < 2; ++b) {
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t i = 0; i < D / 2; ++i) {
        double angle = static_cast<double>(t) * std::pow(10000.0, -2.0 * static_cast<double>(i) / D);
        size_t lo = static_cast<size_t>((b * T + t) * D + i), hi = lo + D / 2;
        EXPECT_NEAR(y[lo], x[lo] * std::cos(angle) - x[hi] * std::sin(angle), 1e-5);
        EXPECT_NEAR(y[hi], x[hi] * std::cos(angle) + x[lo] * std::sin(angle), 1e-5);
      }
    }
  }
  EXPECT_EQ(testing::error_text([] { rotary_tables(3, 5, 10000.0f, "cpu"); }),
            "rotary embedding: head size 5 is odd; it must split into two halves");
}

double loss_of(Llama& model, const Tensor& ids, const Tensor& targets) {
  Tensor logits = model.forward(ids);
  return cross_entropy(reshape(logits, {-1, logits.size(-1)}), targets).item();
}

TEST(Llama, GradientsMatchFiniteDifferences) {
  LlamaConfig config{1, 2, 8, 12, 6, 11};  // 1 layer, 2 heads of 4, MLP 12, context 6, vocabulary 11
  ModelOptions options;
  options.device = "cpu-ref";
  Llama model("llama-tiny", config, options);
  Tensor ids = Tensor::from_ints({1, 4, 7, 2, 9, 3, 10, 5, 0, 6}, {2, 5}, DType::I64, "cpu-ref");
  Tensor targets = Tensor::from_ints({4, 7, 2, 9, 3, 5, 0, 6, 8, 1}, {10}, DType::I64, "cpu-ref");
  Generator gen{5, 0};
  for (auto& [name, p] : model.named_parameters()) {  // norm weights away from 1, so that their gradients matter
    if (name.find("norm") == std::string::npos) continue;
    p.copy_from(add_scalar(Tensor::randn(p.shape(), gen, 0.3f, DType::F32, "cpu-ref"), 1));
  }
  Tensor logits = model.forward(ids);
  cross_entropy(reshape(logits, {-1, config.vocab_size}), targets).backward();
  const float eps = 1e-3f;  // small: RMSNorm of N(0, 0.02) embeddings is far from linear at 1e-2
  int checked = 0;
  for (auto& [name, p] : model.named_parameters()) {
    std::vector<float> base = p.to_floats(), analytic = p.grad().to_floats();
    for (size_t j = 0; j < base.size(); j += std::max<size_t>(1, base.size() / 5)) {  // 5 elements per tensor
      NoGradGuard no_grad;
      std::vector<float> moved = base;
      moved[j] = base[j] + eps;
      p.copy_from(Tensor::from_floats(moved, p.shape(), DType::F32, "cpu-ref"));
      double plus = loss_of(model, ids, targets);
      moved[j] = base[j] - eps;
      p.copy_from(Tensor::from_floats(moved, p.shape(), DType::F32, "cpu-ref"));
      double minus = loss_of(model, ids, targets);
      p.copy_from(Tensor::from_floats(base, p.shape(), DType::F32, "cpu-ref"));
      EXPECT_NEAR(analytic[j], (plus - minus) / (2 * eps), 2e-3 + 2e-2 * std::fabs(analytic[j]))
          << name << "[" << j << "]";
      ++checked;
    }
  }
  EXPECT_EQ(model.named_parameters().size(), 1 + 9 + 2u);  // embedding; 4 + 3 + 2 per layer; norm and head
  EXPECT_GT(checked, 50);
}

TEST(Llama, AdamWStepsOnLlamaMiniLowerTheLoss) {
  ModelOptions options;
  options.vocab_size = 64;
  options.block_size = 32;
  std::unique_ptr<Model> model = create_model("llama-mini", options);
  EXPECT_EQ(model->describe().rfind("llama-mini: 4 layers, 4 heads, 128 channels, MLP 344, context 32, vocabulary 64",
                                    0),
            0u)
      << model->describe();
  std::vector<int64_t> tokens(4 * 33);
  for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = static_cast<int64_t>((i * 7 + i / 5) % 64);
  std::vector<int64_t> in, out;
  for (int64_t b = 0; b < 4; ++b) {
    in.insert(in.end(), tokens.begin() + b * 33, tokens.begin() + b * 33 + 32);
    out.insert(out.end(), tokens.begin() + b * 33 + 1, tokens.begin() + b * 33 + 33);
  }
  Tensor ids = Tensor::from_ints(in, {4, 32}), targets = Tensor::from_ints(out, {128});
  AdamWOptions adamw;
  adamw.lr = 3e-3f;
  AdamW optimizer(model->named_parameters(), adamw);
  std::vector<float> losses;
  for (int step = 0; step < 8; ++step) {
    Tensor logits = model->forward(ids);
    Tensor loss = cross_entropy(reshape(logits, {-1, 64}), targets);
    losses.push_back(loss.item());
    loss.backward();
    optimizer.step();
    optimizer.zero_grad();
  }
  EXPECT_NEAR(losses.front(), std::log(64.0), 0.2);  // N(0, 0.02) weights: nearly uniform predictions
  EXPECT_LT(losses.back(), losses.front() - 1.0);
}

TEST(Llama, SevenBillionPresetHasHuggingFacesParameterCount) {
  ModelOptions options;
  options.device = "record";  // reserves memory without committing it
  std::unique_ptr<Model> model = create_model("llama-7b", options);
  EXPECT_EQ(model->parameter_count(), 6738415616);
  EXPECT_EQ(dynamic_cast<Llama&>(*model).matmul_parameter_count(), 6738415616 - 32000 * 4096);
}

}  // namespace
}  // namespace tessera
