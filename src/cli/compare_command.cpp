// `tessera compare --timing-only`: one training step of a model (forward, cross-entropy,
// backward, AdamW) estimated on several chips. The step runs once on the recording backend
// (backends/record), which logs its kernels and its peak device memory without computing;
// each chip's time is the sum of its kernels' times from the cost model (perf/step_cost.h),
// printed beside throughput, MFU, the split into compute-bound, memory-bound and launch time,
// the time per kernel kind, the longest kernels, and the speed-up against the h20 when it is in
// the list. A chip whose HBM is smaller than the step's peak device memory gets a row saying so
// instead of a time; when no chip fits, that is the error. `--gemm MxNxK` times one bf16 GEMM on
// the chips instead.
#include <algorithm>
#include <cstdio>
#include <sstream>

#include "arch/chip_figures.h"
#include "arch/chip_loader.h"
#include "backends/record/record_backend.h"
#include "base/error.h"
#include "cli/command.h"
#include "perf/step_cost.h"
#include "nn/autocast.h"
#include "nn/gpt.h"
#include "nn/llama.h"
#include "nn/optimizer.h"
#include "tensor/ops.h"

namespace tessera::cli {

namespace {

constexpr double kGB = 1e9;

// Model FLOPs of one training step, with bench_command.cpp's formula: 6 x the parameters of the
// matrix products x tokens + 12 x layers x T x C x tokens (GPT: all parameters, its embedding
// is the output head; Llama: all but the token embedding); image models 3 x the forward FLOPs.
double model_step_flops(const Model& model, int64_t batch, int64_t seq) {
  double tokens = static_cast<double>(batch * seq);
  auto flops = [&](int64_t matmul_parameters, int64_t layers, int64_t channels) {
    return 6.0 * static_cast<double>(matmul_parameters) * tokens +
           12.0 * static_cast<double>(layers * seq * channels) * tokens;
  };
  if (auto* gpt = dynamic_cast<const Gpt*>(&model))
    return flops(model.parameter_count(), gpt->config().n_layer, gpt->config().n_embd);
  if (auto* llama = dynamic_cast<const Llama*>(&model))
    return flops(llama->matmul_parameter_count(), llama->config().n_layer, llama->config().dim);
  return 3.0 * model.forward_flops_per_example() * static_cast<double>(batch);
}

struct RecordedStep {
  std::string description;
  bool tokens = true;
  double model_flops = 0;
  std::vector<KernelCall> log;
  int64_t parameter_bytes = 0, optimizer_bytes = 0, peak_bytes = 0;
  int64_t activation_bytes() const { return std::max<int64_t>(0, peak_bytes - 2 * parameter_bytes - optimizer_bytes); }
};

// One step of `model_name` on device "record", in bf16 autocast.
RecordedStep record_step(const std::string& model_name, int64_t batch, int64_t seq) {
  RecordBackend& device = record_backend();
  int64_t before = device.live_bytes();
  ModelOptions options;
  options.device = "record";
  std::unique_ptr<Model> model = create_model(model_name, options);
  RecordedStep step;
  step.description = model->describe();
  step.tokens = model->input_kind() == InputKind::Tokens;
  step.model_flops = model_step_flops(*model, batch, seq);
  for (const auto& [name, p] : model->named_parameters()) step.parameter_bytes += static_cast<int64_t>(p.nbytes());
  AdamW optimizer(model->named_parameters(), AdamWOptions{});
  step.optimizer_bytes = device.live_bytes() - before - step.parameter_bytes;
  Tensor inputs = step.tokens ? Tensor::zeros({batch, seq}, DType::I64, "record")
                              : Tensor::zeros({batch, 1, 28, 28}, DType::F32, "record");
  Tensor targets = Tensor::zeros({step.tokens ? batch * seq : batch}, DType::I64, "record");
  device.clear_log();
  device.reset_peak();
  {
    Tensor loss;
    {
      AutocastGuard autocast(DType::BF16);
      Tensor logits = model->forward(inputs);
      loss = cross_entropy(cast(reshape(logits, {-1, logits.size(-1)}), DType::F32), targets);
    }
    loss.backward();
    optimizer.step();
    optimizer.zero_grad();
  }
  step.log = device.log();
  step.peak_bytes = device.peak_live_bytes() - before;
  device.clear_log();
  return step;
}

struct ChipResult {
  arch::ChipSpec chip;
  bool fits = true;  // the step's peak device memory fits the chip's HBM
  perf::StepCost cost;
};

// "needs 131.2 GB of HBM, h20 has 96.0 GB": what a chip too small for the step lacks.
std::string lacking(const RecordedStep& step, const arch::ChipSpec& chip) {
  return fmt::format("needs {:.1f} GB of HBM, {} has {:.1f} GB", step.peak_bytes / kGB, chip.name,
                     chip.hbm_bytes / kGB);
}

// Marks the chips whose HBM holds the step; an Error naming what is needed when none does.
void check_fits(const RecordedStep& step, std::vector<ChipResult>& results, const std::string& model,
                int64_t batch, int64_t seq) {
  std::string small;
  for (ChipResult& r : results) {
    r.fits = step.peak_bytes <= r.chip.hbm_bytes;
    if (r.fits) continue;
    small += fmt::format("{}{} has {:.1f} GB", small.empty() ? "" : ", ", r.chip.name, r.chip.hbm_bytes / kGB);
  }
  if (std::any_of(results.begin(), results.end(), [](const ChipResult& r) { return r.fits; })) return;
  std::string size = step.tokens ? fmt::format("batch {} x {} tokens", batch, seq) : fmt::format("batch {}", batch);
  fail("compare: {} at {} needs {:.1f} GB of HBM (parameters {:.1f} + gradients {:.1f} + AdamW state {:.1f} + peak "
       "activations {:.1f}); no chip has that much: {}",
       model, size, step.peak_bytes / kGB, step.parameter_bytes / kGB, step.parameter_bytes / kGB,
       step.optimizer_bytes / kGB, step.activation_bytes() / kGB, small);
}

std::vector<std::string> split_names(const std::string& list) {
  std::vector<std::string> names;
  std::stringstream in(list);
  std::string name;
  while (std::getline(in, name, ',')) {
    if (name.empty()) fail("--chips '{}': an empty chip name", list);
    names.push_back(name);
  }
  if (names.empty()) fail("--chips: give at least one chip, e.g. t1,h20");
  return names;
}

// Milliseconds per kernel kind (launches included) on every chip that holds the step, the kinds in
// the order of the first one's longest.
void print_kinds(const std::vector<ChipResult>& all) {
  std::vector<ChipResult> results;
  std::copy_if(all.begin(), all.end(), std::back_inserter(results), [](const ChipResult& r) { return r.fits; });
  std::printf("\ntime by kernel kind, ms (launches included; kernels per step):\n%-28s", "kind");
  for (const ChipResult& r : results) std::printf(" %10s", r.chip.name.c_str());
  std::printf("\n");
  for (const perf::KernelGroup& kind : results.front().cost.kinds) {
    std::printf("%-28s", fmt::format("{} x{}", kind.label, kind.count).c_str());
    for (const ChipResult& r : results) {
      auto same = [&](const perf::KernelGroup& g) { return g.label == kind.label; };
      auto it = std::find_if(r.cost.kinds.begin(), r.cost.kinds.end(), same);
      std::printf(" %10.3f", it == r.cost.kinds.end() ? 0.0 : it->seconds * 1e3);
    }
    std::printf("\n");
  }
}

void print_table(const RecordedStep& step, int64_t batch, int64_t seq, const std::vector<ChipResult>& results,
                 int top) {
  double items = step.tokens ? static_cast<double>(batch * seq) : static_cast<double>(batch);
  std::printf("%s\n", step.description.c_str());
  std::printf("one training step: %s, bf16 autocast, AdamW; %zu kernels; %.3f TFLOP of model FLOPs; device memory "
              "%.2f GB (parameters %.2f, gradients %.2f, AdamW state %.2f, peak activations %.2f)\n\n",
              step.tokens ? fmt::format("batch {} x {} tokens", batch, seq).c_str() : fmt::format("batch {}", batch).c_str(),
              step.log.size(), step.model_flops / 1e12, step.peak_bytes / kGB, step.parameter_bytes / kGB,
              step.parameter_bytes / kGB, step.optimizer_bytes / kGB, step.activation_bytes() / kGB);
  const ChipResult* h20 = nullptr;
  for (const ChipResult& r : results)
    if (r.chip.name == "h20" && r.fits) h20 = &r;
  std::printf("%-12s %10s %12s %7s %12s %12s %10s%s\n", "chip", "step ms", step.tokens ? "tokens/s" : "images/s", "MFU",
              "compute ms", "memory ms", "launch ms", h20 ? "  vs h20" : "");
  for (const ChipResult& r : results) {
    if (!r.fits) {
      std::printf("%-12s %s\n", r.chip.name.c_str(), lacking(step, r.chip).c_str());
      continue;
    }
    const perf::StepCost& c = r.cost;
    double mfu = step.model_flops / c.seconds / arch::chip_figures(r.chip).bf16_flops_per_s;
    std::printf("%-12s %10.2f %12.0f %6.1f%% %12.2f %12.2f %10.2f", r.chip.name.c_str(), c.seconds * 1e3,
                items / c.seconds, 100 * mfu, c.compute_bound_s * 1e3, c.memory_bound_s * 1e3, c.launch_s * 1e3);
    if (h20) std::printf("  %6.2fx", h20->cost.seconds / c.seconds);
    std::printf("\n");
  }
  print_kinds(results);
  std::printf("\ntop %d kernels by time (launches included; share of the step):\n", top);
  for (const ChipResult& r : results) {
    if (!r.fits) continue;
    std::printf("%s:\n", r.chip.name.c_str());
    for (size_t i = 0; i < r.cost.groups.size() && static_cast<int>(i) < top; ++i) {
      const perf::KernelGroup& g = r.cost.groups[i];
      std::printf("  %-48s x%-4lld %9.3f ms %5.1f%%\n", g.label.c_str(), static_cast<long long>(g.count), g.seconds * 1e3,
                  100 * g.seconds / r.cost.seconds);
    }
  }
  const ChipResult& first = *std::find_if(results.begin(), results.end(), [](const ChipResult& r) { return r.fits; });
  if (first.cost.f32_gemms_as_bf16 > 0) {
    std::printf("\nnote: %lld matrix products with f32 operands were timed as bf16 (the matrix engines take 16-bit inputs)\n",
                static_cast<long long>(first.cost.f32_gemms_as_bf16));
  }
}

// `--gemm MxNxK`: one bf16 GEMM kernel per chip (launch included) and its share of the peak.
void print_gemm(const std::string& text, std::vector<ChipResult>& results) {
  long long m = 0, n = 0, k = 0;
  char end = 0;
  if (std::sscanf(text.c_str(), "%lldx%lldx%lld%c", &m, &n, &k, &end) != 3 || m < 1 || n < 1 || k < 1)
    fail("--gemm '{}': expected MxNxK with positive sizes, e.g. 4096x4096x4096", text);
  KernelCall call;
  call.kernel = Kernel::Matmul;
  auto operand = [](Shape shape, Access access) {
    Strides strides = contiguous_strides(shape);
    return KernelOperand{true, DType::BF16, shape, strides, access};
  };
  call.operands = {operand({m, k}, Access::Read), operand({k, n}, Access::Read), operand({m, n}, Access::Write)};
  call.matmul.m = m, call.matmul.n = n, call.matmul.k = k;
  std::printf("bf16 GEMM %lldx%lldx%lld (M x N x K), launch overhead included\n", m, n, k);
  std::printf("%-12s %12s %10s %10s\n", "chip", "time us", "TFLOPS", "of peak");
  for (ChipResult& r : results) {
    perf::KernelCostModel model(r.chip);
    perf::KernelCost c = model.cost(call);
    double flops_per_s = c.flops / c.seconds;
    std::printf("%-12s %12.1f %10.1f %9.1f%%\n", r.chip.name.c_str(), c.seconds * 1e6, flops_per_s / 1e12,
                100 * flops_per_s / arch::chip_figures(r.chip).bf16_flops_per_s);
  }
}

const CommandRegistrar kCompare("compare", "estimate a model's training step on several chips", [](CLI::App& app) {
  struct Options {
    std::string model = "gpt2-124m", chips = "t1,h20,h100,a100", precision = "bf16", gemm;
    int64_t batch = 8, seq = 1024;
    int top = 5;
    bool timing_only = false;
  };
  auto o = std::make_shared<Options>();
  app.add_option("--model", o->model, "model")->capture_default_str();
  app.add_option("--batch", o->batch, "batch size")->capture_default_str();
  app.add_option("--seq", o->seq, "sequence length (GPT)")->capture_default_str();
  app.add_option("--chips", o->chips, "comma-separated chip presets or YAML files")->capture_default_str();
  app.add_option("--precision", o->precision, "bf16 (autocast: bf16 matrix products, f32 weights)")->capture_default_str();
  app.add_option("--gemm", o->gemm, "time one bf16 GEMM MxNxK on the chips instead of a training step");
  app.add_option("--top", o->top, "kernels listed per chip, longest first")->capture_default_str();
  app.add_flag("--timing-only", o->timing_only, "estimate times from the timing model without computing values");
  return [o] {
    if (!o->timing_only) {
      fail("compare: running the step's numerics on a chip needs the chip backend, which is not built yet; use "
           "--timing-only for the timing model's estimate");
    }
    if (o->precision != "bf16") {
      fail("compare --precision '{}' is not supported: the chips' matrix engines take 16-bit inputs; use bf16",
           o->precision);
    }
    if (o->batch < 1 || o->seq < 1) fail("compare: --batch and --seq must be at least 1");
    if (o->top < 0) fail("compare --top {}: give 0 or more kernels to list", o->top);
    std::vector<ChipResult> results;
    for (const std::string& name : split_names(o->chips)) results.push_back({arch::load_chip(name), true, {}});
    if (!o->gemm.empty()) return print_gemm(o->gemm, results);
    RecordedStep step = record_step(o->model, o->batch, o->seq);
    check_fits(step, results, o->model, o->batch, o->seq);
    for (ChipResult& r : results) {
      if (!r.fits) continue;
      perf::KernelCostModel model(r.chip);
      r.cost = perf::cost_step(step.log, model);
    }
    print_table(step, o->batch, o->seq, results, o->top);
  };
});

}  // namespace

}  // namespace tessera::cli
