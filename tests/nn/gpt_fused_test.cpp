// The GPT model runs its MLP as matmul + bias_gelu, its attention on the qkv projection in
// place (causal_self_attention) and each residual add fused with the next layer norm
// (add_layer_norm). This checks it against GPT-2 written out with the unfused ops (add, gelu,
// layer_norm, and attention on copied heads: permute, contiguous, causal_attention) from the same
// named parameters: the same logits bit for bit in f32 (the fused kernels do the same f32
// arithmetic), and the same gradients up to summation order.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "nn/gpt.h"
#include "nn/model.h"
#include "tensor/dispatch.h"
#include "tensor/ops.h"

namespace tessera {
namespace {

// GPT-2 with the unfused ops, from the Hugging Face names and layout (linear weights (in, out)).
Tensor unfused_gpt(const std::map<std::string, Tensor>& p, const Tensor& ids, const GptConfig& c) {
  auto P = [&](const std::string& name) { return p.at(name); };
  auto linear = [&](const Tensor& x, const std::string& name) {
    return add(matmul(x, P(name + ".weight")), P(name + ".bias"));
  };
  auto norm = [&](const Tensor& x, const std::string& name) {
    return layer_norm(x, P(name + ".weight"), P(name + ".bias"));
  };
  int64_t B = ids.size(0), T = ids.size(1), C = c.n_embd, H = c.n_head, D = C / H;
  std::vector<int64_t> positions(T);
  for (int64_t t = 0; t < T; ++t) positions[t] = t;
  Tensor pos = Tensor::from_ints(positions, {T}, DType::I64, ids.device());
  Tensor x = add(embedding(ids, P("wte.weight")), embedding(pos, P("wpe.weight")));  // (B, T, C)
  for (int64_t l = 0; l < c.n_layer; ++l) {
    std::string h = "h." + std::to_string(l) + ".";
    Tensor qkv = linear(norm(x, h + "ln_1"), h + "attn.c_attn");  // (B, T, 3C)
    auto heads = [&](int64_t part) {
      return contiguous(permute(reshape(slice(qkv, 2, part * C, (part + 1) * C), {B, T, H, D}), {0, 2, 1, 3}));
    };
    Tensor y = causal_attention(heads(0), heads(1), heads(2));  // (B, H, T, D)
    y = reshape(contiguous(permute(y, {0, 2, 1, 3})), {B, T, C});
    x = add(x, linear(y, h + "attn.c_proj"));
    Tensor m = gelu(linear(norm(x, h + "ln_2"), h + "mlp.c_fc"));
    x = add(x, linear(m, h + "mlp.c_proj"));
  }
  return matmul(norm(x, "ln_f"), P("wte.weight"), false, true);  // (B, T, V)
}

TEST(GptFused, ForwardEqualsTheUnfusedCompositionAndGradientsAgree) {
  set_strict_dispatch(true);
  for (const char* device : {"cpu-ref", "cpu"}) {
    SCOPED_TRACE(device);
    ModelOptions options;
    options.device = device;
    options.vocab_size = 96;
    options.block_size = 16;
    std::unique_ptr<Model> model = create_model("gpt-mini", options);
    const GptConfig& config = dynamic_cast<Gpt&>(*model).config();
    std::vector<int64_t> tokens;
    for (int64_t i = 0; i < 2 * 12; ++i) tokens.push_back((i * 37 + 11) % options.vocab_size);
    Tensor ids = Tensor::from_ints(tokens, {2, 12}, DType::I64, device);
    Tensor targets = Tensor::from_ints(std::vector<int64_t>(tokens.rbegin(), tokens.rend()), {24}, DType::I64, device);

    Tensor logits = model->forward(ids);
    cross_entropy(reshape(logits, {24, -1}), targets).backward();
    std::map<std::string, std::vector<float>> fused_grads;
    std::map<std::string, Tensor> leaves;
    for (const auto& [name, p] : model->named_parameters()) {
      fused_grads[name] = p.grad().to_floats();
      leaves[name] = p.detach().clone().set_requires_grad(true);
    }
    Tensor want = unfused_gpt(leaves, ids, config);
    EXPECT_EQ(logits.to_floats(), want.to_floats());
    cross_entropy(reshape(want, {24, -1}), targets).backward();
    for (const auto& [name, leaf] : leaves) {
      std::vector<float> got = fused_grads[name], expected = leaf.grad().to_floats();
      ASSERT_EQ(got.size(), expected.size()) << name;
      double scale = 0.0;
      for (float v : expected) scale = std::max(scale, double(std::fabs(v)));
      for (size_t i = 0; i < got.size(); ++i)
        ASSERT_NEAR(got[i], expected[i], 1e-5 * scale + 1e-9) << name << " element " << i;
    }
  }
  set_strict_dispatch(false);
}

}  // namespace
}  // namespace tessera
