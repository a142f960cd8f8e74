// GPT-2 (see gpt.h).
#include "nn/gpt.h"

#include <cmath>
#include <map>
#include <fmt/format.h>

#include "base/error.h"
#include "nn/autocast.h"
#include "tensor/ops.h"

namespace tessera {

namespace {
// name -> (n_layer, n_head, n_embd, block_size, vocab_size)
const std::map<std::string, GptConfig> kGptPresets = {
    {"gpt-mini", {4, 4, 128, 256, 50257, 0.0f}},
    {"gpt2-124m", {12, 12, 768, 1024, 50257, 0.0f}},
    {"gpt2-350m", {24, 16, 1024, 1024, 50257, 0.0f}},
    {"gpt2-774m", {36, 20, 1280, 1024, 50257, 0.0f}},
    {"gpt2-1.5b", {48, 25, 1600, 1024, 50257, 0.0f}},
};
}  // namespace

GptConfig gpt_preset(const std::string& name) {
  auto it = kGptPresets.find(name);
  if (it == kGptPresets.end()) fail("unknown GPT preset '{}'", name);
  return it->second;
}

namespace {
// GPT-2 initialisation: N(0, 0.02) weights, zero biases, residual projections scaled by
// 1/sqrt(2 * n_layer).
void init_gpt2_linear(Linear& linear, Generator& gen, float std, const std::string& device) {
  linear.weight.copy_from(Tensor::randn(linear.weight.shape(), gen, std, DType::F32, device));
  if (linear.bias.defined()) linear.bias.fill_(0.0);
}
}  // namespace

CausalSelfAttention::CausalSelfAttention(const GptConfig& c, InitContext init, Generator& dropout_gen)
    : n_head_(c.n_head) {
  if (c.n_embd % c.n_head != 0)
    fail("GPT config: n_embd {} is not divisible by n_head {}", c.n_embd, c.n_head);
  c_attn_ = &register_module("c_attn", std::make_unique<Linear>(c.n_embd, 3 * c.n_embd, true, init, Linear::Layout::InOut));
  c_proj_ = &register_module("c_proj", std::make_unique<Linear>(c.n_embd, c.n_embd, true, init, Linear::Layout::InOut));
  resid_dropout_ = &register_module("resid_dropout", std::make_unique<Dropout>(c.dropout, dropout_gen));
  init_gpt2_linear(*c_attn_, init.gen, 0.02f, init.device);
  init_gpt2_linear(*c_proj_, init.gen, 0.02f / std::sqrt(2.0f * c.n_layer), init.device);
}

Tensor CausalSelfAttention::forward(const Tensor& x) const {
  Tensor qkv = c_attn_->forward(x);                   // (B, T, 3C)
  Tensor y = causal_self_attention(qkv, n_head_);     // (B, T, C)
  return resid_dropout_->forward(c_proj_->forward(y));
}

GptMlp::GptMlp(const GptConfig& c, InitContext init) {
  c_fc_ = &register_module("c_fc", std::make_unique<Linear>(c.n_embd, 4 * c.n_embd, true, init, Linear::Layout::InOut));
  c_proj_ = &register_module("c_proj", std::make_unique<Linear>(4 * c.n_embd, c.n_embd, true, init, Linear::Layout::InOut));
  init_gpt2_linear(*c_fc_, init.gen, 0.02f, init.device);
  init_gpt2_linear(*c_proj_, init.gen, 0.02f / std::sqrt(2.0f * c.n_layer), init.device);
}

Tensor GptMlp::forward(const Tensor& x) const { return c_proj_->forward(c_fc_->forward_gelu(x)); }

GptBlock::GptBlock(const GptConfig& c, InitContext init, Generator& dropout_gen) {
  ln_1_ = &register_module("ln_1", std::make_unique<LayerNorm>(c.n_embd, init));
  attn_ = &register_module("attn", std::make_unique<CausalSelfAttention>(c, init, dropout_gen));
  ln_2_ = &register_module("ln_2", std::make_unique<LayerNorm>(c.n_embd, init));
  mlp_ = &register_module("mlp", std::make_unique<GptMlp>(c, init));
  dropout_ = &register_module("mlp_dropout", std::make_unique<Dropout>(c.dropout, dropout_gen));
}

AddLayerNorm GptBlock::forward(const Tensor& x, const Tensor& x_normed, const LayerNorm& next) const {
  AddLayerNorm h = ln_2_->forward_add(x, attn_->forward(x_normed));  // h = x + attn(ln_1(x)), ln_2(h)
  return next.forward_add(h.sum, dropout_->forward(mlp_->forward(h.normed)));
}

Gpt::Gpt(const std::string& name, const GptConfig& config, const ModelOptions& options)
    : name_(name), config_(config), device_(options.device) {
  Generator gen{options.seed, 0};
  dropout_gen = Generator{options.seed ^ 0xD50Full, 0};
  InitContext init{gen, options.device};
  wte_ = &register_module("wte", std::make_unique<Embedding>(config.vocab_size, config.n_embd, init, 0.02f));
  wpe_ = &register_module("wpe", std::make_unique<Embedding>(config.block_size, config.n_embd, init, 0.02f));
  for (int64_t i = 0; i < config.n_layer; ++i)
    blocks_.push_back(&register_module(fmt::format("h.{}", i), std::make_unique<GptBlock>(config, init, dropout_gen)));
  ln_f_ = &register_module("ln_f", std::make_unique<LayerNorm>(config.n_embd, init));
}

Tensor Gpt::forward(const Tensor& ids) {
  if (ids.dim() != 2) fail("{}: input ids must be (B, T), got {}", name_, shape_str(ids.shape()));
  int64_t T = ids.size(1);
  if (T > config_.block_size)
    fail("{}: sequence length {} exceeds the block size {}", name_, T, config_.block_size);
  std::vector<int64_t> positions(T);
  for (int64_t t = 0; t < T; ++t) positions[t] = t;
  Tensor pos = Tensor::from_ints(positions, {T}, DType::I64, device_);
  Tensor x = add(wte_->forward(ids), wpe_->forward(pos));  // (B, T, C)
  const LayerNorm& first = blocks_.empty() ? *ln_f_ : blocks_[0]->ln_1();
  AddLayerNorm stream{x, first.forward(x)};  // the residual stream and its next layer norm
  for (size_t i = 0; i < blocks_.size(); ++i)
    stream = blocks_[i]->forward(stream.sum, stream.normed, i + 1 < blocks_.size() ? blocks_[i + 1]->ln_1() : *ln_f_);
  x = stream.normed;  // ln_f of the last block's output
  DType dtype = autocast_dtype();
  Tensor head = dtype == DType::F32 ? wte_->weight : cast(wte_->weight, dtype);
  Tensor xin = dtype == DType::F32 ? x : cast(x, dtype);
  return matmul(xin, head, false, true);  // (B, T, V)
}

std::string Gpt::describe() const {
  return fmt::format("{}: {} layers, {} heads, {} channels, context {}, vocabulary {}, {:.2f}M parameters",
                     name_, config_.n_layer, config_.n_head, config_.n_embd, config_.block_size,
                     config_.vocab_size, parameter_count() / 1e6);
}

double Gpt::forward_flops_per_example() const {
  // Per token: 2 FLOPs per weight of the matrix products (blocks and the tied head), plus
  // attention's QK^T and AV (2 * 2 * T * C per layer, T = block size at most; we use the
  // average causal length T/2 of a full block).
  double C = static_cast<double>(config_.n_embd), L = static_cast<double>(config_.n_layer);
  double matmul_weights = L * 12.0 * C * C + static_cast<double>(config_.vocab_size) * C;
  double attention = L * 2.0 * 2.0 * C * static_cast<double>(config_.block_size) / 2.0;
  return 2.0 * matmul_weights + attention;
}

namespace {
std::unique_ptr<Model> make_gpt(const std::string& name, const ModelOptions& options) {
  GptConfig config = gpt_preset(name);
  if (options.vocab_size > 0) config.vocab_size = options.vocab_size;
  if (options.block_size > 0) config.block_size = options.block_size;
  config.dropout = options.dropout;
  return std::make_unique<Gpt>(name, config, options);
}
const bool kGptRegistered = [] {
  for (const auto& [name, config] : kGptPresets) {
    std::string preset = name;
    register_model(preset, InputKind::Tokens, [preset](const ModelOptions& o) { return make_gpt(preset, o); });
  }
  return true;
}();
}  // namespace

}  // namespace tessera
