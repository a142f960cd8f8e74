// Step hooks, trace and report of a run on a chip (see chip_run_monitor.h).
#include "cli/chip_run_monitor.h"

#include <cstdio>

#include "backends/chip/chip_backend.h"
#include "base/error.h"

namespace tessera::cli {

std::unique_ptr<ChipRunMonitor> ChipRunMonitor::attach(const std::string& device, const std::string& trace_path) {
  ChipBackend* chip = chip_backend(device);
  if (!chip) {
    if (!trace_path.empty()) fail("--trace '{}': tracing needs a chip device (--device chip:<preset>), got '{}'",
                                  trace_path, device);
    return nullptr;
  }
  return std::unique_ptr<ChipRunMonitor>(new ChipRunMonitor(chip->device(), trace_path));
}

ChipRunMonitor::ChipRunMonitor(runtime::Device& device, std::string trace_path)
    : device_(device), trace_path_(std::move(trace_path)), recorder_(device) {}

StepHooks ChipRunMonitor::hooks(int64_t trace_step) {
  StepHooks hooks;
  hooks.begin = [this, trace_step](int64_t step) {
    if (step == trace_step && !trace_path_.empty()) {
      trace_ = std::make_unique<runtime::TimelineTrace>(device_.chip());
      device_.set_trace(trace_.get());
    }
    recorder_.begin_step();
  };
  hooks.end = [this](int64_t, int64_t items) {
    recorder_.end_step(items);
    if (!trace_ || device_.trace() != trace_.get()) return;
    device_.set_trace(nullptr);
    trace_->write(trace_path_);
  };
  return hooks;
}

void ChipRunMonitor::print(const std::string& item_unit, bool f32_run) const {
  if (recorder_.steps().empty()) return;
  runtime::RunReport report = runtime::make_run_report(device_, recorder_.steps(), item_unit, f32_run);
  std::printf("%s", runtime::format_run_report(report).c_str());
  if (trace_) std::printf("  trace of one step (%lld launches) in %s\n", static_cast<long long>(trace_->launches()),
                          trace_path_.c_str());
}

}  // namespace tessera::cli
