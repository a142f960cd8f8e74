// Optimisers with PyTorch semantics: SGD with momentum and AdamW (decoupled weight decay).
// Their state tensors are named so that checkpoints save and restore them exactly.
#pragma once
#include "nn/module.h"

namespace tessera {

class Optimizer {
 public:
  explicit Optimizer(NamedTensors params) : params_(std::move(params)) {}
  virtual ~Optimizer() = default;
  // Applies one update from the parameters' gradients (parameters without one are skipped).
  virtual void step() = 0;
  // The state to checkpoint, e.g. "adamw.m.wte.weight"; restoring copies into these tensors.
  virtual NamedTensors state() const = 0;
  void zero_grad() const;

  float lr = 1e-3f;
  int64_t step_count = 0;  // updates applied so far

 protected:
  NamedTensors params_;
};

struct AdamWOptions {
  float lr = 1e-3f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f, weight_decay = 0.01f;
  // Whether a parameter is decayed; default all (torch.optim.AdamW on one group).
  bool decay_matrices_only = false;  // nanoGPT convention: only tensors with >= 2 dims
};

// Like PyTorch's foreach AdamW, a step is one multi-tensor kernel for all parameters
// (tensor/foreach.h), bit for bit the per-tensor updates.
class AdamW : public Optimizer {
 public:
  AdamW(NamedTensors params, const AdamWOptions& options);
  void step() override;
  NamedTensors state() const override;

 private:
  AdamWOptions options_;
  std::vector<Tensor> m_, v_;  // first and second moments, f32, like the parameters
};

class SgdMomentum : public Optimizer {
 public:
  SgdMomentum(NamedTensors params, float lr, float momentum, float weight_decay = 0.0f);
  void step() override;
  NamedTensors state() const override;

 private:
  float momentum_, weight_decay_;
  std::vector<Tensor> velocity_;
};

// Scales all gradients so that their global L2 norm is at most max_norm; returns the norm
// before clipping (PyTorch's clip_grad_norm_). Like PyTorch's foreach path, it runs two
// multi-tensor kernels for all gradients (tensor/foreach.h), the scale only when it clips.
double clip_grad_norm(const std::vector<Tensor>& params, double max_norm);
// The global L2 norm of the gradients.
double grad_norm(const std::vector<Tensor>& params);

// Linear warmup (base_lr * (step + 1) / warmup_steps) over warmup_steps, then cosine decay to min_lr at
// total_steps (constant min_lr afterwards). Steps are 0-based.
struct LrSchedule {
  float base_lr = 1e-3f, min_lr = 1e-4f;
  int64_t warmup_steps = 0, total_steps = 1;
  float at(int64_t step) const;
};

}  // namespace tessera
