// `tessera train`: trains a model on a dataset and prints a summary.
#include <cstdio>

#include "backends/chip/chip_backend.h"
#include "cli/chip_run_monitor.h"
#include "cli/command.h"
#include "tensor/dispatch.h"
#include "train/trainer.h"

namespace tessera::cli {

namespace {

// Options shared with the commands that build a training run (train, bench).
void add_train_options(CLI::App& app, TrainOptions& o) {
  app.add_option("--model", o.model, "gpt-mini, gpt2-124m, gpt2-350m, llama-mini, mlp, cnn")->capture_default_str();
  app.add_option("--dataset", o.data.dataset, "kjv, fortunes (text) or fashion-mnist");
  app.add_option("--tokenizer", o.data.tokenizer, "char or gpt2 (text datasets)")->capture_default_str();
  app.add_option("--device", o.data.device, "a backend: cpu, cpu-ref, chip:<preset> (e.g. chip:t1)")->capture_default_str();
  app.add_option("--steps", o.steps, "optimiser steps")->capture_default_str();
  app.add_option("--batch", o.data.batch, "examples per micro-batch")->capture_default_str();
  app.add_option("--seq", o.data.seq, "sequence length (text)")->capture_default_str();
  app.add_option("--grad-accum", o.grad_accum, "micro-batches per step")->capture_default_str();
  app.add_option("--lr", o.lr, "peak learning rate")->capture_default_str();
  app.add_option("--min-lr", o.min_lr, "final learning rate of the cosine decay (0 = lr/10)");
  app.add_option("--warmup", o.warmup, "linear warmup steps")->capture_default_str();
  app.add_option("--weight-decay", o.weight_decay, "decoupled weight decay")->capture_default_str();
  app.add_option("--optimizer", o.optimizer, "adamw or sgd")->capture_default_str();
  app.add_option("--momentum", o.momentum, "sgd momentum")->capture_default_str();
  app.add_option("--clip", o.clip, "max global gradient norm (0 = off)")->capture_default_str();
  app.add_option("--dropout", o.dropout, "dropout probability (GPT)")->capture_default_str();
  app.add_option("--precision", o.precision, "f32 or bf16 (mixed, fp32 master weights)")->capture_default_str();
  app.add_option("--eval-every", o.eval_every, "evaluate every N steps (0 = at the end)");
  app.add_option("--eval-batches", o.eval_batches, "evaluation batches (0 = all)")->capture_default_str();
  app.add_option("--checkpoint-dir", o.checkpoint_dir, "directory for checkpoints");
  app.add_option("--checkpoint-every", o.checkpoint_every, "checkpoint every N steps (0 = at the end)");
  app.add_flag("--resume", o.resume, "continue from the latest checkpoint in --checkpoint-dir");
  app.add_option("--init", o.init_weights, "initial weights (safetensors; GPT-2 Hugging Face layout for GPT models)");
  app.add_option("--seed", o.seed, "random seed")->capture_default_str();
  app.add_option("--data-dir", o.data.data_dir, "cache of prepared token files")->capture_default_str();
  app.add_flag("--quiet", o.quiet, "no progress output");
}

const CommandRegistrar kTrain("train", "train a model", [](CLI::App& app) {
  auto options = std::make_shared<TrainOptions>();
  options->data.dataset = "kjv";
  add_train_options(app, *options);
  auto strict = std::make_shared<bool>(false);
  app.add_flag("--strict", *strict, "forbid falling back to the CPU for kernels the device lacks");
  auto overrides = std::make_shared<std::vector<std::string>>();
  app.add_option("--set", *overrides, "override a parameter of the chip of --device, e.g. hbm.capacity=8GiB")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  auto trace = std::make_shared<std::string>();
  app.add_option("--trace", *trace, "write a Chrome/Perfetto trace of the last step (chip devices)");
  return [options, strict, overrides, trace] {
    set_strict_dispatch(*strict);
    if (!overrides->empty()) set_chip_overrides(options->data.device, *overrides);
    std::unique_ptr<ChipRunMonitor> monitor = ChipRunMonitor::attach(options->data.device, *trace);
    if (monitor) options->hooks = monitor->hooks(options->steps - 1);
    TrainResult r = train(*options);
    const char* unit = options->data.dataset == "fashion-mnist" ? "images" : "tokens";
    std::printf("trained %s on %s\n", options->model.c_str(), options->data.dataset.c_str());
    std::printf("  steps %lld-%lld, first loss %.4f, last loss %.4f\n", static_cast<long long>(r.first_step),
                static_cast<long long>(r.first_step + static_cast<int64_t>(r.losses.size())),
                r.losses.empty() ? 0.0 : r.losses.front(), r.losses.empty() ? 0.0 : r.losses.back());
    std::printf("  time %.1f s, %.0f %s/s\n", r.seconds, r.items_per_second, unit);
    std::printf("  eval loss %.4f, accuracy %.2f %% over %lld %s\n", r.eval.loss, 100.0 * r.eval.accuracy,
                static_cast<long long>(r.eval.items), unit);
    if (!options->checkpoint_dir.empty()) std::printf("  checkpoint in %s\n", options->checkpoint_dir.c_str());
    if (monitor) monitor->print(unit, options->precision == "f32");
  };
});

}  // namespace

}  // namespace tessera::cli
