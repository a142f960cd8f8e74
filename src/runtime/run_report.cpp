// The performance report of a run (see run_report.h).
#include "runtime/run_report.h"

#include <algorithm>
#include <cmath>

#include "arch/chip_figures.h"
#include "base/error.h"

namespace tessera::runtime {

void StepRecorder::begin_step() {
  before_ = device_->totals();
  start_s_ = device_->synchronize();
}

void StepRecorder::end_step(int64_t items) {
  steps_.push_back({device_->totals() - before_, device_->synchronize() - start_s_, items});
}

namespace {

double engine_busy(const DeviceTotals& t, isa::Engine engine) {
  const EngineSeconds& e = t.engines[static_cast<size_t>(engine)];
  return e.compute + e.memory_wait;
}

// The kernels of `work` by time, the first `top` of them and one "other" row for the rest.
std::vector<KernelShare> kernel_shares(const DeviceTotals& work, double steps, double step_seconds, int top) {
  std::vector<KernelShare> all;
  for (const auto& [name, k] : work.kernels)
    all.push_back({name, k.calls / steps, k.seconds / steps, step_seconds > 0 ? k.seconds / steps / step_seconds : 0});
  std::stable_sort(all.begin(), all.end(),
                   [](const KernelShare& a, const KernelShare& b) { return a.seconds > b.seconds; });
  if (static_cast<int>(all.size()) <= top + 1) return all;
  KernelShare other{fmt::format("other ({} kernels)", all.size() - static_cast<size_t>(top))};
  for (size_t i = static_cast<size_t>(top); i < all.size(); ++i) {
    other.calls += all[i].calls;
    other.seconds += all[i].seconds;
    other.share += all[i].share;
  }
  all.resize(static_cast<size_t>(top));
  all.push_back(other);
  return all;
}

}  // namespace

RunReport make_run_report(const Device& device, const std::vector<StepWork>& steps, const std::string& item_unit,
                          bool f32_run, int top_kernels) {
  TS_ASSERT(!steps.empty());
  const arch::ChipSpec& chip = device.chip();
  RunReport r;
  r.device = device.name();
  r.item_unit = item_unit;
  r.f32_run = f32_run;
  r.first_step_seconds = steps.front().seconds;
  // Step 1 pays for what later steps reuse (e.g. the optimiser's state created on first use).
  r.first_step_excluded = steps.size() > 1 && std::fabs(steps[0].seconds - steps[1].seconds) > 1e-9 * steps[1].seconds;
  size_t first = r.first_step_excluded ? 1 : 0;
  DeviceTotals work;
  double seconds = 0, items = 0;
  for (size_t i = first; i < steps.size(); ++i) {
    work += steps[i].work;
    seconds += steps[i].seconds;
    items += static_cast<double>(steps[i].items);
  }
  double n = static_cast<double>(steps.size() - first);
  r.steps = static_cast<int64_t>(n);
  r.step_seconds = seconds / n;
  r.items = items / n;
  r.items_per_second = r.step_seconds > 0 ? r.items / r.step_seconds : 0;
  r.matrix_flops = work.matrix_flops / n;
  r.flops = work.flops / n;
  arch::ChipFigures figures = arch::chip_figures(chip);
  r.peak_flops_per_s = figures.bf16_flops_per_s;
  r.mfu = r.step_seconds > 0 ? r.matrix_flops / (r.step_seconds * r.peak_flops_per_s) : 0;
  double engine_time = static_cast<double>(chip.cores) * seconds;  // engine-seconds of one kind
  if (engine_time > 0) {
    r.dma_utilization = engine_busy(work, isa::Engine::Dma) / engine_time;
    r.matrix_utilization = engine_busy(work, isa::Engine::Matrix) / engine_time;
    r.vector_utilization = engine_busy(work, isa::Engine::Vector) / engine_time;
  }
  double compute = 0, memory = 0, waiting = 0;
  for (isa::Engine engine : {isa::Engine::Dma, isa::Engine::Matrix, isa::Engine::Vector}) {
    const EngineSeconds& e = work.engines[static_cast<size_t>(engine)];
    (engine == isa::Engine::Dma ? memory : compute) += e.compute;
    memory += e.memory_wait;
    waiting += e.semaphore_wait + e.barrier_wait;
  }
  double program_seconds = (work.launch_seconds - work.overhead_seconds) / n, kinds = compute + memory + waiting;
  if (kinds > 0) {
    r.compute_seconds = program_seconds * compute / kinds;
    r.memory_seconds = program_seconds * memory / kinds;
    r.waiting_seconds = program_seconds * waiting / kinds;
  }
  r.overhead_seconds = work.overhead_seconds / n;
  r.copy_seconds = work.copy_seconds / n;
  r.idle_seconds = std::max(0.0, r.step_seconds - work.launch_seconds / n - r.copy_seconds);
  r.hbm_bytes = static_cast<double>(work.hbm_bytes) / n;
  r.hbm_bytes_per_s_peak = chip.hbm_bytes_per_s;
  r.peak_memory_bytes = device.peak_bytes();
  r.hbm_capacity_bytes = chip.hbm_bytes;
  r.kernels = kernel_shares(work, n, r.step_seconds, top_kernels);
  return r;
}

std::string format_run_report(const RunReport& r) {
  auto ms = [](double s) { return s * 1e3; };
  auto pct = [](double part, double whole) { return whole > 0 ? 100 * part / whole : 0.0; };
  std::string out = fmt::format("simulated on {}:\n", r.device);
  std::string excluded =
      r.first_step_excluded ? fmt::format(", step 1 excluded: {:.3f} ms", ms(r.first_step_seconds)) : "";
  out += fmt::format("  step time       {:.3f} ms (mean of {} step{}{})\n", ms(r.step_seconds), r.steps,
                     r.steps == 1 ? "" : "s", excluded);
  out += fmt::format("  throughput      {:.0f} {}/s ({:.0f} {} per step)\n", r.items_per_second, r.item_unit, r.items,
                     r.item_unit);
  out += fmt::format("  MFU             {:.2f} % of the {:.1f} TFLOPS dense bf16 peak ({:.3f} GFLOP per step on the "
                     "matrix engine, tile padding included{})\n",
                     100 * r.mfu, r.peak_flops_per_s / 1e12, r.matrix_flops / 1e9,
                     r.f32_run ? "; an f32 run: its matmuls run in bf16 on the matrix engine" : "");
  out += fmt::format("  utilisation     DMA {:.1f} %, Matrix {:.1f} %, Vector {:.1f} % (busy, over cores and time)\n",
                     100 * r.dma_utilization, 100 * r.matrix_utilization, 100 * r.vector_utilization);
  out += fmt::format("  time split      compute-bound {:.1f} %, memory-bound {:.1f} %, waiting {:.1f} %, launch "
                     "overhead {:.1f} %, copies {:.1f} %, idle {:.1f} %\n",
                     pct(r.compute_seconds, r.step_seconds), pct(r.memory_seconds, r.step_seconds),
                     pct(r.waiting_seconds, r.step_seconds), pct(r.overhead_seconds, r.step_seconds),
                     pct(r.copy_seconds, r.step_seconds), pct(r.idle_seconds, r.step_seconds));
  out += fmt::format("  HBM traffic     {} per step ({:.1f} % of the HBM bandwidth over the step)\n",
                     format_bytes(r.hbm_bytes),
                     r.step_seconds > 0 ? pct(r.hbm_bytes / r.step_seconds, r.hbm_bytes_per_s_peak) : 0.0);
  out += fmt::format("  device memory   peak {} of {}\n", format_bytes(static_cast<double>(r.peak_memory_bytes)),
                     format_bytes(static_cast<double>(r.hbm_capacity_bytes)));
  out += "  top kernels     name                      calls/step   ms/step   share\n";
  for (const KernelShare& k : r.kernels)
    out += fmt::format("                  {:<24} {:>10.1f} {:>9.3f} {:>6.1f} %\n", k.name, k.calls, ms(k.seconds),
                       100 * k.share);
  return out;
}

}  // namespace tessera::runtime
