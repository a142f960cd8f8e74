// The training loop (see trainer.h).
#include "train/trainer.h"

#include <cmath>
#include <fmt/format.h>

#include "base/error.h"
#include "nn/autocast.h"
#include "nn/optimizer.h"
#include "tensor/ops.h"
#include "train/checkpoint.h"
#include "train/progress.h"

namespace tessera {

namespace {

DType precision_dtype(const std::string& precision) {
  if (precision == "f32") return DType::F32;
  if (precision == "bf16") return DType::BF16;
  fail("--precision '{}' is not supported: use f32 or bf16", precision);
}

std::unique_ptr<Optimizer> make_optimizer(const TrainOptions& o, const Model& model) {
  if (o.optimizer == "adamw") {
    AdamWOptions a;
    a.lr = o.lr;
    a.weight_decay = o.weight_decay;
    a.decay_matrices_only = true;
    return std::make_unique<AdamW>(model.named_parameters(), a);
  }
  if (o.optimizer == "sgd") return std::make_unique<SgdMomentum>(model.named_parameters(), o.lr, o.momentum, o.weight_decay);
  fail("--optimizer '{}' is not supported: use adamw or sgd", o.optimizer);
}

// Loss of one batch: logits (..., V) against targets (N).
Tensor batch_loss(Model& model, const Batch& batch) {
  Tensor logits = model.forward(batch.inputs);
  return cross_entropy(cast(reshape(logits, {-1, logits.size(-1)}), DType::F32), batch.targets);
}

void check_options(const TrainOptions& o) {
  if (o.steps < 1) fail("--steps must be at least 1, got {}", o.steps);
  if (o.grad_accum < 1) fail("--grad-accum must be at least 1, got {}", o.grad_accum);
  if (!(o.lr > 0.0f)) fail("--lr must be positive, got {}", o.lr);
  if (o.warmup < 0 || o.warmup > o.steps) fail("--warmup must be in [0, steps], got {}", o.warmup);
  if (o.resume && o.checkpoint_dir.empty()) fail("--resume needs --checkpoint-dir");
  if (o.dropout < 0.0f || o.dropout >= 1.0f) fail("--dropout must be in [0, 1), got {}", o.dropout);
}

}  // namespace

EvalResult evaluate(Model& model, const TrainingData& data, int64_t max_batches, const StepHooks* hooks) {
  NoGradGuard no_grad;
  bool was_training = model.training();
  model.train(false);
  int64_t batches = data.eval_batch_count();
  if (max_batches > 0) batches = std::min(batches, max_batches);
  double loss_sum = 0.0;
  int64_t correct = 0, items = 0;
  for (int64_t i = 0; i < batches; ++i) {
    Batch batch = data.eval_batch(i);
    if (hooks && hooks->begin) hooks->begin(i);
    Tensor logits = model.forward(batch.inputs);
    Tensor flat = cast(reshape(logits, {-1, logits.size(-1)}), DType::F32);
    int64_t n = flat.size(0);
    loss_sum += static_cast<double>(cross_entropy(flat, batch.targets).item()) * n;
    std::vector<int64_t> predicted = argmax(flat, 1).to_ints(), targets = batch.targets.to_ints();
    if (hooks && hooks->end) hooks->end(i, batch.items);
    for (int64_t j = 0; j < n; ++j) correct += predicted[j] == targets[j];
    items += n;
  }
  model.train(was_training);
  EvalResult r;
  r.items = items;
  r.loss = items ? loss_sum / items : 0.0;
  r.accuracy = items ? static_cast<double>(correct) / items : 0.0;
  return r;
}

TrainResult train(const TrainOptions& o) {
  check_options(o);
  DType compute = precision_dtype(o.precision);
  std::optional<std::string> resume_from;
  nlohmann::json saved_state;
  if (o.resume) {
    resume_from = latest_checkpoint(o.checkpoint_dir);
    if (!resume_from) fail("--resume: no checkpoint in '{}' (the file '{}/latest' is missing)", o.checkpoint_dir, o.checkpoint_dir);
    saved_state = read_trainer_state(*resume_from);
  }
  std::unique_ptr<TrainingData> data =
      open_training_data(o.data, saved_state.is_null() ? nlohmann::json() : saved_state.value("tokenizer", nlohmann::json()));
  ModelOptions mo;
  mo.device = o.data.device;
  mo.seed = o.seed;
  mo.dropout = o.dropout;
  const TextTokenizer* tokenizer = data_tokenizer(*data);
  if (tokenizer) {
    mo.vocab_size = tokenizer->vocab_size();
    if (model_input_kind(o.model) != InputKind::Tokens) fail("model '{}' takes images; dataset '{}' is text", o.model, o.data.dataset);
  } else if (model_input_kind(o.model) != InputKind::Images) {
    fail("model '{}' takes tokens; dataset '{}' holds images", o.model, o.data.dataset);
  }
  std::unique_ptr<Model> model = create_model(o.model, mo);
  if (!o.init_weights.empty()) load_weights(o.init_weights, *model);
  std::unique_ptr<Optimizer> optimizer = make_optimizer(o, *model);
  int64_t first_step = 0;
  if (resume_from) {
    load_checkpoint(*resume_from, *model, optimizer.get());
    first_step = saved_state.at("step").get<int64_t>();
    optimizer->step_count = saved_state.at("optimizer_steps").get<int64_t>();
    model->dropout_gen = Generator{saved_state.at("dropout_seed").get<uint64_t>(), saved_state.at("dropout_offset").get<uint64_t>()};
    data->restore_position(saved_state.at("data"));
    if (first_step >= o.steps) fail("--resume: the checkpoint is at step {}, and --steps is {}", first_step, o.steps);
  }
  LrSchedule schedule{o.lr, o.min_lr > 0.0f ? o.min_lr : o.lr / 10.0f, o.warmup, o.steps};

  TrainResult result;
  result.first_step = first_step;
  result.model_description = model->describe();
  result.data_description = data->describe();
  Progress progress(first_step, o.steps, data->item_unit(), o.quiet);
  if (!o.quiet) {
    progress.message(result.model_description);
    progress.message(result.data_description);
    if (resume_from) progress.message("resuming from " + *resume_from);
  }
  std::string last_checkpoint = resume_from.value_or("");
  auto trainer_state = [&](int64_t step) {
    nlohmann::json s;
    s["step"] = step;
    s["optimizer_steps"] = optimizer->step_count;
    s["dropout_seed"] = model->dropout_gen.seed;
    s["dropout_offset"] = model->dropout_gen.offset;
    s["data"] = data->position();
    s["model"] = o.model;
    s["dataset"] = o.data.dataset;
    s["seq"] = o.data.seq;
    s["seed"] = o.seed;
    if (tokenizer) s["tokenizer"] = tokenizer->to_json();
    return s;
  };
  auto checkpoint = [&](int64_t step) {
    last_checkpoint = save_checkpoint(o.checkpoint_dir, step, *model, *optimizer, trainer_state(step));
  };

  std::vector<Tensor> params = model->parameters();
  model->train(true);
  for (int64_t step = first_step; step < o.steps; ++step) {
    optimizer->lr = schedule.at(step);
    if (o.hooks.begin) o.hooks.begin(step);
    double loss_sum = 0.0;
    int64_t items = 0;
    for (int64_t micro = 0; micro < o.grad_accum; ++micro) {
      Batch batch = data->next_train_batch();
      Tensor loss;
      {
        AutocastGuard autocast(compute);
        loss = batch_loss(*model, batch);
      }
      float value = loss.item();
      if (!std::isfinite(value))
        fail("step {}: the loss is {}; training stopped{}", step + 1, value,
             last_checkpoint.empty() ? " (no checkpoint was written)" : ", the last good checkpoint is " + last_checkpoint);
      scale(loss, 1.0f / static_cast<float>(o.grad_accum)).backward();
      loss_sum += value;
      items += batch.items;
    }
    if (o.clip > 0.0f) {
      double norm = clip_grad_norm(params, o.clip);
      if (!std::isfinite(norm))
        fail("step {}: the gradient norm is {}; training stopped{}", step + 1, norm,
             last_checkpoint.empty() ? " (no checkpoint was written)" : ", the last good checkpoint is " + last_checkpoint);
    }
    optimizer->step();
    optimizer->zero_grad();
    if (o.hooks.end) o.hooks.end(step, items);
    float mean_loss = static_cast<float>(loss_sum / o.grad_accum);
    result.losses.push_back(mean_loss);
    progress.update(step, mean_loss, optimizer->lr, items);
    bool last = step + 1 == o.steps;
    if (!o.checkpoint_dir.empty() && (last || (o.checkpoint_every > 0 && (step + 1) % o.checkpoint_every == 0)))
      checkpoint(step + 1);
    if (o.eval_every > 0 && (step + 1) % o.eval_every == 0 && !last) {
      EvalResult e = evaluate(*model, *data, o.eval_batches);
      progress.message(fmt::format("step {}: eval loss {:.4f}, accuracy {:.2f} %", step + 1, e.loss, 100.0 * e.accuracy));
    }
  }
  progress.finish();
  result.seconds = progress.seconds();
  result.items_per_second = progress.items_per_second();
  result.eval = evaluate(*model, *data, o.eval_batches);
  return result;
}

}  // namespace tessera
