// Tessera's GPT, MLP and CNN against PyTorch: the fixtures in tests/fixtures/ (written by
// tools/make_fixtures.py) hold initial weights, a batch, PyTorch's logits, loss, every
// gradient, and the losses of 10 AdamW steps. Run on every CPU backend in strict mode.
#include <gtest/gtest.h>

#include <cmath>

#include "backends/backend.h"
#include "data/safetensors.h"
#include "nn/model.h"
#include "nn/optimizer.h"
#include "tensor/dispatch.h"
#include "tensor/ops.h"

namespace tessera {
namespace {

struct Fixture {
  SafetensorsFile file;
  const StoredTensor& at(const std::string& name) const {
    const StoredTensor* t = file.find(name);
    if (!t) throw std::runtime_error("fixture tensor missing: " + name);
    return *t;
  }
  std::vector<float> floats(const std::string& name) const {
    const StoredTensor& t = at(name);
    std::vector<float> out(numel(t.shape));
    convert_elements(t.bytes.data(), t.dtype, out.data(), DType::F32, out.size());
    return out;
  }
  std::vector<int64_t> ints(const std::string& name) const {
    const StoredTensor& t = at(name);
    std::vector<int64_t> out(numel(t.shape));
    convert_elements(t.bytes.data(), t.dtype, out.data(), DType::I64, out.size());
    return out;
  }
  Tensor tensor(const std::string& name, const std::string& device) const {
    const StoredTensor& t = at(name);
    return is_floating(t.dtype) ? Tensor::from_floats(floats(name), t.shape, DType::F32, device)
                                : Tensor::from_ints(ints(name), t.shape, DType::I64, device);
  }
};

Fixture load_fixture(const std::string& name) {
  return Fixture{read_safetensors(std::string(TESSERA_SOURCE_DIR) + "/tests/fixtures/" + name + ".safetensors")};
}

// max |a - b| <= abs_tol + rel_tol * max |b|  (a tolerance relative to the tensor's scale).
void expect_close(const std::vector<float>& actual, const std::vector<float>& expected, double abs_tol,
                  double rel_tol, const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  double scale = 0.0, worst = 0.0;
  size_t worst_at = 0;
  for (float e : expected) scale = std::max(scale, static_cast<double>(std::fabs(e)));
  for (size_t i = 0; i < actual.size(); ++i) {
    double d = std::fabs(static_cast<double>(actual[i]) - expected[i]);
    if (!(d <= worst)) worst = d, worst_at = i;
  }
  EXPECT_LE(worst, abs_tol + rel_tol * scale)
      << what << ": worst difference at " << worst_at << " (" << actual[worst_at] << " vs " << expected[worst_at]
      << "), scale " << scale;
}

class PytorchFixtures : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { set_strict_dispatch(true); }
  void TearDown() override { set_strict_dispatch(false); }

  // Builds the model, loads the fixture's weights, and checks forward, gradients and 10 AdamW
  // steps. Tolerances: f32 with different summation orders than PyTorch's.
  void check(const std::string& fixture_name, const std::string& model_name, const ModelOptions& base) {
    Fixture f = load_fixture(fixture_name);
    ModelOptions options = base;
    options.device = GetParam();
    std::unique_ptr<Model> model = create_model(model_name, options);
    for (const auto& [name, p] : model->named_parameters()) {
      ASSERT_EQ(f.at("param." + name).shape, p.shape()) << name;
      p.copy_from(f.tensor("param." + name, options.device));
    }
    Tensor input = f.tensor("input", options.device);
    Tensor targets = reshape(f.tensor("targets", options.device), {-1});
    auto loss_of = [&](Tensor* logits_out) {
      Tensor logits = model->forward(input);
      if (logits_out) *logits_out = logits;
      return cross_entropy(reshape(logits, {-1, logits.size(-1)}), targets);
    };
    Tensor logits;
    Tensor loss = loss_of(&logits);
    expect_close(logits.to_floats(), f.floats("logits"), 1e-5, 1e-4, "logits");
    EXPECT_NEAR(loss.item(), f.floats("loss")[0], 1e-5 * std::fabs(f.floats("loss")[0]));
    loss.backward();
    for (const auto& [name, p] : model->named_parameters()) {
      ASSERT_TRUE(p.grad().defined()) << name;
      expect_close(p.grad().to_floats(), f.floats("grad." + name), 1e-7, 2e-4, "gradient of " + name);
    }
    model->zero_grad();
    AdamWOptions adamw;  // the fixture's: lr 1e-3, betas (0.9, 0.999), eps 1e-8, wd 0.01 on all
    AdamW optimizer(model->named_parameters(), adamw);
    std::vector<float> expected_losses = f.floats("adamw_losses"), losses;
    for (int step = 0; step < 10; ++step) {
      Tensor l = loss_of(nullptr);
      losses.push_back(l.item());
      l.backward();
      optimizer.step();
      optimizer.zero_grad();
    }
    expect_close(losses, expected_losses, 1e-4, 1e-4, "losses of 10 AdamW steps");
    for (const auto& [name, p] : model->named_parameters())
      if (f.file.find("param_after." + name))
        expect_close(p.to_floats(), f.floats("param_after." + name), 1e-5, 1e-3, "parameter after 10 steps: " + name);
  }
};

TEST_P(PytorchFixtures, GptMini) {
  ModelOptions options;
  options.vocab_size = 256;
  check("gpt_mini", "gpt-mini", options);
}

TEST_P(PytorchFixtures, Mlp) { check("mlp", "mlp", ModelOptions{}); }

TEST_P(PytorchFixtures, Cnn) { check("cnn", "cnn", ModelOptions{}); }

INSTANTIATE_TEST_SUITE_P(CpuBackends, PytorchFixtures, ::testing::Values("cpu", "cpu-ref"),
                         [](const auto& info) { return info.param == "cpu-ref" ? std::string("cpu_ref") : info.param; });

}  // namespace
}  // namespace tessera
