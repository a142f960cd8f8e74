// GPT: the GPT-2 architecture (learned positions, pre-LayerNorm blocks, causal self-attention,
// GELU MLP, tied output embedding), with parameters named and laid out as in the Hugging Face
// GPT-2 checkpoints (linear weights stored (in, out)).
#pragma once
#include "nn/layers.h"
#include "nn/model.h"

namespace tessera {

struct GptConfig {
  int64_t n_layer = 4, n_head = 4, n_embd = 128, block_size = 256, vocab_size = 50257;
  float dropout = 0.0f;
};
// Presets: gpt-mini, gpt2-124m, gpt2-350m, gpt2-774m, gpt2-1.5b.
GptConfig gpt_preset(const std::string& name);

class CausalSelfAttention : public Module {
 public:
  CausalSelfAttention(const GptConfig& config, InitContext init, Generator& dropout_gen);
  Tensor forward(const Tensor& x) const;  // (B, T, C) -> (B, T, C)

 private:
  int64_t n_head_;
  Linear* c_attn_;  // (C, 3C): columns [q | k | v]
  Linear* c_proj_;  // (C, C)
  Dropout* resid_dropout_;
};

class GptMlp : public Module {
 public:
  GptMlp(const GptConfig& config, InitContext init);
  Tensor forward(const Tensor& x) const;  // (B, T, C) -> (B, T, C)

 private:
  Linear* c_fc_;    // (C, 4C)
  Linear* c_proj_;  // (4C, C)
};

// A pre-LN block: out = h + mlp(ln_2(h)), h = x + attn(ln_1(x)). Each residual add is fused
// with the layer norm that reads its sum (add_layer_norm), so a block takes the stream x with
// ln_1(x) already computed, and returns out with next(out) (the next block's ln_1, or ln_f).
class GptBlock : public Module {
 public:
  GptBlock(const GptConfig& config, InitContext init, Generator& dropout_gen);
  // x and x_normed = ln_1(x) (B, T, C) -> {out, next(out)} (B, T, C).
  AddLayerNorm forward(const Tensor& x, const Tensor& x_normed, const LayerNorm& next) const;
  const LayerNorm& ln_1() const { return *ln_1_; }

 private:
  LayerNorm* ln_1_;
  CausalSelfAttention* attn_;
  LayerNorm* ln_2_;
  GptMlp* mlp_;
  Dropout* dropout_;
};

class Gpt : public Model {
 public:
  Gpt(const std::string& name, const GptConfig& config, const ModelOptions& options);
  Tensor forward(const Tensor& ids) override;  // (B, T) -> logits (B, T, V)
  InputKind input_kind() const override { return InputKind::Tokens; }
  std::string describe() const override;
  double forward_flops_per_example() const override;
  const GptConfig& config() const { return config_; }

 private:
  std::string name_;
  GptConfig config_;
  std::string device_;
  Embedding* wte_;  // (V, C), also the output projection
  Embedding* wpe_;  // (block_size, C)
  std::vector<GptBlock*> blocks_;
  LayerNorm* ln_f_;
};

}  // namespace tessera
