// Llama: the LLaMA / Llama-2 architecture (pre-RMSNorm blocks, causal self-attention with
// rotary position embeddings, SwiGLU MLP, no biases, an output head not tied to the token
// embedding), built from existing tensor ops. Parameters are named and laid out as in the
// Hugging Face LlamaForCausalLM checkpoints (linear weights stored (out, in), "model." prefix
// dropped). Rotary embeddings rotate the two halves of each head (Hugging Face's rotate_half).
#pragma once
#include "nn/layers.h"
#include "nn/model.h"

namespace tessera {

struct LlamaConfig {
  int64_t n_layer = 2, n_head = 2, dim = 64, ffn_dim = 172, block_size = 256, vocab_size = 32000;
  float norm_eps = 1e-5f, rope_theta = 10000.0f;
};
// Presets: llama-mini (trains on a CPU), llama-7b.
LlamaConfig llama_preset(const std::string& name);

// y = x / sqrt(mean(x^2) + eps) * weight over the last dimension, in f32.
class RmsNorm : public Module {
 public:
  RmsNorm(int64_t channels, InitContext init, float eps);
  Tensor forward(const Tensor& x) const;
  Tensor weight;  // (C)

 private:
  float eps_;
};

class LlamaAttention : public Module {
 public:
  LlamaAttention(const LlamaConfig& config, InitContext init);
  // x (B, T, C); cos and sin (T, D) -> (B, T, C).
  Tensor forward(const Tensor& x, const Tensor& cos, const Tensor& sin) const;

 private:
  int64_t n_head_;
  Linear *q_proj_, *k_proj_, *v_proj_, *o_proj_;  // (C, C) each
};

// down(silu(gate(x)) * up(x)).
class LlamaMlp : public Module {
 public:
  LlamaMlp(const LlamaConfig& config, InitContext init);
  Tensor forward(const Tensor& x) const;  // (B, T, C) -> (B, T, C)

 private:
  Linear *gate_proj_, *up_proj_;  // (F, C)
  Linear* down_proj_;             // (C, F)
};

class LlamaBlock : public Module {
 public:
  LlamaBlock(const LlamaConfig& config, InitContext init);
  Tensor forward(const Tensor& x, const Tensor& cos, const Tensor& sin) const;  // (B, T, C) -> (B, T, C)

 private:
  RmsNorm* input_layernorm_;
  LlamaAttention* self_attn_;
  RmsNorm* post_attention_layernorm_;
  LlamaMlp* mlp_;
};

class Llama : public Model {
 public:
  Llama(const std::string& name, const LlamaConfig& config, const ModelOptions& options);
  Tensor forward(const Tensor& ids) override;  // (B, T) -> logits (B, T, V)
  InputKind input_kind() const override { return InputKind::Tokens; }
  std::string describe() const override;
  double forward_flops_per_example() const override;
  const LlamaConfig& config() const { return config_; }
  // Parameters of the matrix products (every weight but the token embedding).
  int64_t matmul_parameter_count() const;

 private:
  std::string name_;
  LlamaConfig config_;
  std::string device_;
  Embedding* embed_tokens_;  // (V, C)
  std::vector<LlamaBlock*> layers_;
  RmsNorm* norm_;
  Linear* lm_head_;  // (V, C)
};

// x * cos + rotate_half(x) * sin, rotate_half(x) = [-x2, x1] for the halves x1, x2 of the last
// dimension; x (..., T, D), cos and sin (T, D).
Tensor apply_rotary(const Tensor& x, const Tensor& cos, const Tensor& sin);
// cos and sin (T, D) of position t and frequency theta^(-2i/D), each half of D repeating the
// D/2 frequencies, as f32 on `device`.
std::pair<Tensor, Tensor> rotary_tables(int64_t t, int64_t d, float theta, const std::string& device);

}  // namespace tessera
