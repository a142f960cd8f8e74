// SGD with momentum, AdamW, gradient clipping and the LR schedule (see optimizer.h).
#include "nn/optimizer.h"

#include <cmath>

#include "base/error.h"
#include "tensor/dispatch.h"
#include "tensor/foreach.h"
#include "tensor/ops.h"

namespace tessera {

void Optimizer::zero_grad() const {
  for (auto& [name, p] : params_) p.zero_grad();
}

namespace {
// The gradient to apply to p: its own (in p's dtype, contiguous), or undefined.
Tensor usable_grad(const std::string& name, const Tensor& p) {
  Tensor g = p.grad();
  if (!g.defined()) return g;
  if (g.shape() != p.shape())
    fail("optimizer: gradient of '{}' has shape {}, parameter {}", name, shape_str(g.shape()), shape_str(p.shape()));
  return cast(g, p.dtype()).contiguous();
}
}  // namespace

AdamW::AdamW(NamedTensors params, const AdamWOptions& options)
    : Optimizer(std::move(params)), options_(options) {
  lr = options.lr;
  for (auto& [name, p] : params_) {
    m_.push_back(Tensor::zeros(p.shape(), p.dtype(), p.device()));
    v_.push_back(Tensor::zeros(p.shape(), p.dtype(), p.device()));
  }
}

// One multi-tensor kernel for all parameters (a launch per distinct weight decay on a device).
void AdamW::step() {
  NoGradGuard no_grad;
  ++step_count;
  std::vector<Tensor> params, grads;
  std::vector<AdamWArgs> args;
  for (const auto& [name, p] : params_) {
    params.push_back(p);
    grads.push_back(usable_grad(name, p));
    AdamWArgs& a = args.emplace_back();
    a.lr = lr;
    a.beta1 = options_.beta1;
    a.beta2 = options_.beta2;
    a.eps = options_.eps;
    a.weight_decay = options_.decay_matrices_only && p.dim() < 2 ? 0.0f : options_.weight_decay;
    a.step = step_count;
  }
  foreach_adamw(params, grads, m_, v_, args);
}

NamedTensors AdamW::state() const {
  NamedTensors out;
  for (size_t i = 0; i < params_.size(); ++i) {
    out.emplace_back("adamw.m." + params_[i].first, m_[i]);
    out.emplace_back("adamw.v." + params_[i].first, v_[i]);
  }
  return out;
}

SgdMomentum::SgdMomentum(NamedTensors params, float learning_rate, float momentum, float weight_decay)
    : Optimizer(std::move(params)), momentum_(momentum), weight_decay_(weight_decay) {
  lr = learning_rate;
  for (auto& [name, p] : params_) velocity_.push_back(Tensor::zeros(p.shape(), p.dtype(), p.device()));
}

void SgdMomentum::step() {
  NoGradGuard no_grad;
  ++step_count;
  for (size_t i = 0; i < params_.size(); ++i) {
    const auto& [name, p] = params_[i];
    Tensor g = usable_grad(name, p);
    if (!g.defined()) continue;
    kernel_backend(p, Kernel::SgdMomentum).sgd_momentum(p.view(), g.view(), velocity_[i].view(), lr, momentum_, weight_decay_);
  }
}

NamedTensors SgdMomentum::state() const {
  NamedTensors out;
  for (size_t i = 0; i < params_.size(); ++i) out.emplace_back("sgd.velocity." + params_[i].first, velocity_[i]);
  return out;
}

namespace {
std::vector<Tensor> grads_of(const std::vector<Tensor>& params) {
  std::vector<Tensor> grads;
  for (const Tensor& p : params) grads.push_back(p.grad());
  return grads;
}
}  // namespace

// One multi-tensor kernel for all gradients (a launch on a device), not one per gradient.
double grad_norm(const std::vector<Tensor>& params) { return std::sqrt(foreach_sum_squares(grads_of(params))); }

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm) {
  NoGradGuard no_grad;
  std::vector<Tensor> grads = grads_of(params);
  double norm = std::sqrt(foreach_sum_squares(grads));
  if (norm > max_norm && std::isfinite(norm)) {
    float factor = static_cast<float>(max_norm / (norm + 1e-6));
    std::vector<Tensor> clipped = foreach_scale(grads, factor);
    for (size_t i = 0; i < params.size(); ++i)
      if (clipped[i].defined()) params[i].set_grad(clipped[i]);
  }
  return norm;
}

float LrSchedule::at(int64_t step) const {
  if (step < warmup_steps) return base_lr * static_cast<float>(step + 1) / static_cast<float>(warmup_steps);
  if (step >= total_steps) return min_lr;
  double progress = static_cast<double>(step - warmup_steps) / std::max<int64_t>(1, total_steps - warmup_steps);
  return min_lr + static_cast<float>(0.5 * (1.0 + std::cos(M_PI * progress))) * (base_lr - min_lr);
}

}  // namespace tessera
