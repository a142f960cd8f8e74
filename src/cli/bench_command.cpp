// `tessera bench`: times full training steps (forward, backward, AdamW, zero-grad) of a model
// on synthetic data and prints one JSON line, the peer of bench/torch_step.py.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <omp.h>

#include "backends/cpu/cpu_peak.h"
#include "base/error.h"
#include "cli/command.h"
#include "nn/autocast.h"
#include "nn/gpt.h"
#include "nn/optimizer.h"
#include "tensor/ops.h"

namespace tessera::cli {

namespace {

// FLOPs of one training step, with bench/torch_step.py's formula: GPT 6 x parameters x tokens
// + 12 x layers x T x C x tokens (attention over the full T x T square); image models 3 x the
// forward FLOPs.
double step_flops(const Model& model, int64_t batch, int64_t seq) {
  if (auto* gpt = dynamic_cast<const Gpt*>(&model)) {
    double tokens = static_cast<double>(batch * seq);
    const GptConfig& c = gpt->config();
    return 6.0 * model.parameter_count() * tokens + 12.0 * c.n_layer * seq * c.n_embd * tokens;
  }
  return 3.0 * model.forward_flops_per_example() * batch;
}

const CommandRegistrar kBench("bench", "time training steps of a model on synthetic data", [](CLI::App& app) {
  struct Options {
    std::string model = "gpt2-124m", precision = "f32", device = "cpu";
    int64_t batch = 4, seq = 64, steps = 5, warmup = 1, vocab = 0;
  };
  auto o = std::make_shared<Options>();
  app.add_option("--model", o->model, "model")->capture_default_str();
  app.add_option("--batch", o->batch, "batch size")->capture_default_str();
  app.add_option("--seq", o->seq, "sequence length (GPT)")->capture_default_str();
  app.add_option("--vocab", o->vocab, "vocabulary of GPT models (0: the model's own)")->capture_default_str();
  app.add_option("--precision", o->precision, "f32 or bf16")->capture_default_str();
  app.add_option("--steps", o->steps, "timed steps")->capture_default_str();
  app.add_option("--warmup", o->warmup, "untimed steps first")->capture_default_str();
  app.add_option("--device", o->device, "backend")->capture_default_str();
  return [o] {
    if (o->precision != "f32" && o->precision != "bf16") fail("--precision '{}' is not supported: use f32 or bf16", o->precision);
    if (o->steps < 1 || o->batch < 1 || o->seq < 1) fail("--steps, --batch and --seq must be at least 1");
    if (o->vocab < 0) fail("--vocab {} is negative: give a vocabulary size, or 0 for the model's own", o->vocab);
    ModelOptions mo;
    mo.device = o->device;
    mo.vocab_size = o->vocab;
    std::unique_ptr<Model> model = create_model(o->model, mo);
    Generator gen{7, 0};
    Tensor inputs, targets;
    if (model->input_kind() == InputKind::Tokens) {
      int64_t vocab = dynamic_cast<Gpt&>(*model).config().vocab_size;
      std::vector<int64_t> ids(o->batch * (o->seq + 1));
      for (auto& id : ids) id = static_cast<int64_t>(random_bits(gen.seed, gen.take(1)) % vocab);
      inputs = Tensor::from_ints(std::vector<int64_t>(ids.begin(), ids.begin() + o->batch * o->seq), {o->batch, o->seq}, DType::I64, o->device);
      targets = Tensor::from_ints(std::vector<int64_t>(ids.begin() + o->batch, ids.end()), {o->batch * o->seq}, DType::I64, o->device);
    } else {
      inputs = Tensor::uniform({o->batch, 1, 28, 28}, gen, 0.0f, 1.0f, DType::F32, o->device);
      std::vector<int64_t> labels(o->batch);
      for (auto& l : labels) l = static_cast<int64_t>(random_bits(gen.seed, gen.take(1)) % 10);
      targets = Tensor::from_ints(labels, {o->batch}, DType::I64, o->device);
    }
    AdamW optimizer(model->named_parameters(), AdamWOptions{});
    DType compute = o->precision == "bf16" ? DType::BF16 : DType::F32;
    std::vector<double> times_ms;
    for (int64_t step = 0; step < o->warmup + o->steps; ++step) {
      auto start = std::chrono::steady_clock::now();
      Tensor loss;
      {
        AutocastGuard autocast(compute);
        Tensor logits = model->forward(inputs);
        loss = cross_entropy(cast(reshape(logits, {-1, logits.size(-1)}), DType::F32), targets);
      }
      loss.backward();
      optimizer.step();
      optimizer.zero_grad();
      loss.item();  // waits for the step on asynchronous devices
      double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
      if (step >= o->warmup) times_ms.push_back(ms);
    }
    std::vector<double> sorted = times_ms;
    std::sort(sorted.begin(), sorted.end());
    double median = sorted[sorted.size() / 2];
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    double flops = step_flops(*model, o->batch, o->seq);
    CpuPeak peak = detect_cpu_peak();
    nlohmann::json out = {{"framework", "tessera"}, {"model", o->model}, {"dtype", o->precision},
                          {"threads", omp_get_max_threads()}, {"batch", o->batch}, {"seq", o->seq},
                          {"steps", o->steps}, {"median_step_ms", median}, {"min_step_ms", sorted.front()},
                          {"peak_rss_mb", usage.ru_maxrss / 1024.0}, {"flops_per_step", flops},
                          {"gflops", flops / median / 1e6}, {"peak_gflops", peak.gflops()}, {"peak_basis", peak.basis}};
    std::printf("%s\n", out.dump().c_str());
  };
});

}  // namespace

}  // namespace tessera::cli
