// The performance report and trace of a run on a simulated chip (`tessera train` and `eval`
// with --device chip:NAME): step hooks that record each step's work on the chip's runtime
// device, write a Chrome trace of one step, and the report printed at the end.
#pragma once
#include <memory>
#include <string>

#include "runtime/run_report.h"
#include "runtime/timeline_trace.h"
#include "train/trainer.h"

namespace tessera::cli {

class ChipRunMonitor {
 public:
  // The monitor of `device`, or null when it is no chip; --trace FILE (`trace_path`) needs one.
  static std::unique_ptr<ChipRunMonitor> attach(const std::string& device, const std::string& trace_path);

  // Hooks recording every step; the step numbered `trace_step` is written to the trace file.
  StepHooks hooks(int64_t trace_step);
  // The report of the steps recorded (nothing when none were).
  void print(const std::string& item_unit, bool f32_run) const;

 private:
  ChipRunMonitor(runtime::Device& device, std::string trace_path);

  runtime::Device& device_;
  std::string trace_path_;
  runtime::StepRecorder recorder_;
  std::unique_ptr<runtime::TimelineTrace> trace_;
};

}  // namespace tessera::cli
