// Llama (see llama.h).
#include "nn/llama.h"

#include <cmath>
#include <map>
#include <fmt/format.h>

#include "base/error.h"
#include "nn/autocast.h"
#include "tensor/ops.h"

namespace tessera {

namespace {
// name -> (n_layer, n_head, dim, ffn_dim, block_size, vocab_size)
const std::map<std::string, LlamaConfig> kLlamaPresets = {
    {"llama-mini", {4, 4, 128, 344, 256, 32000}},
    {"llama-7b", {32, 32, 4096, 11008, 2048, 32000}},
};

// A linear layer without bias, initialised as Hugging Face's Llama: weight N(0, 0.02).
std::unique_ptr<Linear> new_linear(int64_t in, int64_t out, InitContext init) {
  auto linear = std::make_unique<Linear>(in, out, false, init);
  linear->weight.copy_from(Tensor::randn(linear->weight.shape(), init.gen, 0.02f, DType::F32, init.device));
  return linear;
}

// The autocast dtype's copy of t (t itself when autocast is off).
Tensor autocast(const Tensor& t) {
  DType dtype = autocast_dtype();
  return dtype == DType::F32 || t.dtype() == dtype ? t : cast(t, dtype);
}
}  // namespace

LlamaConfig llama_preset(const std::string& name) {
  auto it = kLlamaPresets.find(name);
  if (it == kLlamaPresets.end()) fail("unknown Llama preset '{}'", name);
  return it->second;
}

RmsNorm::RmsNorm(int64_t channels, InitContext init, float eps) : eps_(eps) {
  weight = register_parameter("weight", Tensor::full({channels}, 1.0, DType::F32, init.device));
}

Tensor RmsNorm::forward(const Tensor& x) const {
  Tensor x32 = cast(x, DType::F32);
  Tensor rms = sqrt(add_scalar(mean(mul(x32, x32), {-1}, true), eps_));  // (..., 1)
  return mul(div(x32, rms), weight);
}

std::pair<Tensor, Tensor> rotary_tables(int64_t t, int64_t d, float theta, const std::string& device) {
  if (d % 2 != 0) fail("rotary embedding: head size {} is odd; it must split into two halves", d);
  std::vector<float> cos(static_cast<size_t>(t * d)), sin(cos.size());
  for (int64_t pos = 0; pos < t; ++pos) {
    for (int64_t i = 0; i < d / 2; ++i) {
      double frequency = std::pow(static_cast<double>(theta), -2.0 * static_cast<double>(i) / static_cast<double>(d));
      double angle = static_cast<double>(pos) * frequency;
      for (int64_t half : {i, i + d / 2}) {
        cos[static_cast<size_t>(pos * d + half)] = static_cast<float>(std::cos(angle));
        sin[static_cast<size_t>(pos * d + half)] = static_cast<float>(std::sin(angle));
      }
    }
  }
  return {Tensor::from_floats(cos, {t, d}, DType::F32, device), Tensor::from_floats(sin, {t, d}, DType::F32, device)};
}

Tensor apply_rotary(const Tensor& x, const Tensor& cos, const Tensor& sin) {
  int64_t d = x.size(-1);
  Tensor rotated = concat({neg(slice(x, -1, d / 2, d)), slice(x, -1, 0, d / 2)}, -1);
  return add(mul(x, cos), mul(rotated, sin));
}

LlamaAttention::LlamaAttention(const LlamaConfig& c, InitContext init) : n_head_(c.n_head) {
  if (c.dim % c.n_head != 0) fail("Llama config: dim {} is not divisible by n_head {}", c.dim, c.n_head);
  q_proj_ = &register_module("q_proj", new_linear(c.dim, c.dim, init));
  k_proj_ = &register_module("k_proj", new_linear(c.dim, c.dim, init));
  v_proj_ = &register_module("v_proj", new_linear(c.dim, c.dim, init));
  o_proj_ = &register_module("o_proj", new_linear(c.dim, c.dim, init));
}

Tensor LlamaAttention::forward(const Tensor& x, const Tensor& cos, const Tensor& sin) const {
  int64_t B = x.size(0), T = x.size(1), C = x.size(2), H = n_head_, D = C / H;
  auto heads = [&](const Linear* proj) {  // (B, T, C) -> (B, H, T, D)
    return contiguous(permute(reshape(proj->forward(x), {B, T, H, D}), {0, 2, 1, 3}));
  };
  Tensor q = apply_rotary(heads(q_proj_), cos, sin), k = apply_rotary(heads(k_proj_), cos, sin);
  Tensor y = causal_attention(q, k, heads(v_proj_));  // (B, H, T, D)
  return o_proj_->forward(reshape(contiguous(permute(y, {0, 2, 1, 3})), {B, T, C}));
}

LlamaMlp::LlamaMlp(const LlamaConfig& c, InitContext init) {
  gate_proj_ = &register_module("gate_proj", new_linear(c.dim, c.ffn_dim, init));
  up_proj_ = &register_module("up_proj", new_linear(c.dim, c.ffn_dim, init));
  down_proj_ = &register_module("down_proj", new_linear(c.ffn_dim, c.dim, init));
}

Tensor LlamaMlp::forward(const Tensor& x) const {
  Tensor gate = gate_proj_->forward(x);                      // (B, T, F)
  Tensor silu = div(gate, add_scalar(exp(neg(gate)), 1.0f));  // gate * sigmoid(gate)
  return down_proj_->forward(mul(silu, up_proj_->forward(x)));
}

LlamaBlock::LlamaBlock(const LlamaConfig& c, InitContext init) {
  input_layernorm_ = &register_module("input_layernorm", std::make_unique<RmsNorm>(c.dim, init, c.norm_eps));
  self_attn_ = &register_module("self_attn", std::make_unique<LlamaAttention>(c, init));
  post_attention_layernorm_ =
      &register_module("post_attention_layernorm", std::make_unique<RmsNorm>(c.dim, init, c.norm_eps));
  mlp_ = &register_module("mlp", std::make_unique<LlamaMlp>(c, init));
}

Tensor LlamaBlock::forward(const Tensor& x, const Tensor& cos, const Tensor& sin) const {
  Tensor h = add(x, self_attn_->forward(input_layernorm_->forward(x), cos, sin));
  return add(h, mlp_->forward(post_attention_layernorm_->forward(h)));
}

Llama::Llama(const std::string& name, const LlamaConfig& config, const ModelOptions& options)
    : name_(name), config_(config), device_(options.device) {
  Generator gen{options.seed, 0};
  InitContext init{gen, options.device};
  embed_tokens_ =
      &register_module("embed_tokens", std::make_unique<Embedding>(config.vocab_size, config.dim, init, 0.02f));
  for (int64_t i = 0; i < config.n_layer; ++i)
    layers_.push_back(&register_module(fmt::format("layers.{}", i), std::make_unique<LlamaBlock>(config, init)));
  norm_ = &register_module("norm", std::make_unique<RmsNorm>(config.dim, init, config.norm_eps));
  lm_head_ = &register_module("lm_head", new_linear(config.dim, config.vocab_size, init));
}

Tensor Llama::forward(const Tensor& ids) {
  if (ids.dim() != 2) fail("{}: input ids must be (B, T), got {}", name_, shape_str(ids.shape()));
  int64_t T = ids.size(1);
  if (T > config_.block_size) fail("{}: sequence length {} exceeds the block size {}", name_, T, config_.block_size);
  auto [cos, sin] = rotary_tables(T, config_.dim / config_.n_head, config_.rope_theta, device_);
  cos = autocast(cos), sin = autocast(sin);  // the rotation runs in the projections' dtype
  Tensor x = embed_tokens_->forward(ids);  // (B, T, C)
  for (LlamaBlock* layer : layers_) x = layer->forward(x, cos, sin);
  return lm_head_->forward(norm_->forward(x));  // (B, T, V)
}

std::string Llama::describe() const {
  return fmt::format("{}: {} layers, {} heads, {} channels, MLP {}, context {}, vocabulary {}, {:.2f}M parameters",
                     name_, config_.n_layer, config_.n_head, config_.dim, config_.ffn_dim, config_.block_size,
                     config_.vocab_size, parameter_count() / 1e6);
}

int64_t Llama::matmul_parameter_count() const { return parameter_count() - config_.vocab_size * config_.dim; }

double Llama::forward_flops_per_example() const {
  // Per token: 2 FLOPs per weight of the matrix products, plus attention's QK^T and AV
  // (2 * 2 * T * C per layer at the average causal length T/2 of a full block).
  double C = static_cast<double>(config_.dim), L = static_cast<double>(config_.n_layer);
  double attention = L * 2.0 * 2.0 * C * static_cast<double>(config_.block_size) / 2.0;
  return 2.0 * static_cast<double>(matmul_parameter_count()) + attention;
}

namespace {
const bool kLlamaRegistered = [] {
  for (const auto& [name, preset] : kLlamaPresets) {
    std::string model = name;
    register_model(model, InputKind::Tokens, [model](const ModelOptions& o) {
      LlamaConfig config = llama_preset(model);
      if (o.vocab_size > 0) config.vocab_size = o.vocab_size;
      if (o.block_size > 0) config.block_size = o.block_size;
      return std::make_unique<Llama>(model, config, o);
    });
  }
  return true;
}();
}  // namespace

}  // namespace tessera
