// The training loop: model, data, optimiser, LR schedule, gradient accumulation and clipping,
// mixed precision, periodic evaluation and checkpoints, and exact resume.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "nn/model.h"
#include "train/training_data.h"

namespace tessera {

// Called around each optimiser step (its micro-batches included; not evaluation or
// checkpoints), or each evaluation batch, e.g. to measure it on a simulated chip. `items`:
// the tokens or images it took.
struct StepHooks {
  std::function<void(int64_t step)> begin;
  std::function<void(int64_t step, int64_t items)> end;
};

struct TrainOptions {
  std::string model = "gpt-mini";
  DataOptions data;
  std::string precision = "f32";  // "f32" or "bf16" (autocast, fp32 master weights)
  std::string optimizer = "adamw";  // "adamw" or "sgd"
  int64_t steps = 100;
  int64_t grad_accum = 1;     // micro-batches per optimiser step
  float lr = 1e-3f;
  float min_lr = 0.0f;        // 0 = lr / 10
  int64_t warmup = 0;         // steps
  float weight_decay = 0.01f;
  float momentum = 0.9f;      // sgd
  float clip = 1.0f;          // max global gradient norm; 0 = off
  float dropout = 0.0f;
  int64_t eval_every = 0;     // steps; 0 = only at the end
  int64_t eval_batches = 20;  // 0 = the whole evaluation split
  int64_t checkpoint_every = 0;  // steps; 0 = only at the end (when a directory is given)
  std::string checkpoint_dir;    // empty = no checkpoints
  bool resume = false;           // continue from the latest checkpoint in checkpoint_dir
  std::string init_weights;      // a safetensors file to start from
  uint64_t seed = 1337;
  bool quiet = false;            // no progress bar
  StepHooks hooks;               // around each training step
};

struct EvalResult {
  double loss = 0.0;
  double accuracy = 0.0;  // top-1, over tokens or images
  int64_t items = 0;
};

struct TrainResult {
  int64_t first_step = 0;      // 0, or the step resumed from
  std::vector<float> losses;   // one per optimiser step run here
  EvalResult eval;
  double seconds = 0.0;
  double items_per_second = 0.0;
  std::string model_description, data_description;
};

TrainResult train(const TrainOptions& options);
// Evaluates on the first `max_batches` evaluation batches (0 = all), in no-grad mode; `hooks`
// (when given) are called around each batch.
EvalResult evaluate(Model& model, const TrainingData& data, int64_t max_batches, const StepHooks* hooks = nullptr);

}  // namespace tessera
