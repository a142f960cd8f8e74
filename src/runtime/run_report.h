// The performance report of a run on a device, from the work of each step (a training step,
// an evaluation batch): simulated step time, throughput, MFU, engine utilisation, the split of
// time into compute-bound, memory-bound and waiting, HBM traffic and the top kernels.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/device.h"

namespace tessera::runtime {

// The work of one step: the device totals it added and its span on the device's timeline.
struct StepWork {
  DeviceTotals work;
  double seconds = 0;  // timeline span: from the step's first work to its last
  int64_t items = 0;   // tokens or images
};

// Snapshots a device's totals and timeline around each step.
class StepRecorder {
 public:
  explicit StepRecorder(Device& device) : device_(&device) {}
  void begin_step();
  void end_step(int64_t items);
  const std::vector<StepWork>& steps() const { return steps_; }

 private:
  Device* device_;
  DeviceTotals before_;
  double start_s_ = 0;
  std::vector<StepWork> steps_;
};

struct KernelShare {
  std::string name;  // "other (N kernels)" for the rest after the top ones
  double calls = 0, seconds = 0, share = 0;  // per step; share of the step time
};

struct RunReport {
  std::string device, item_unit;
  int64_t steps = 0;                 // measured
  bool first_step_excluded = false;  // step 1 took another time than step 2 (compilation, warm-up)
  double first_step_seconds = 0;
  // Means per measured step.
  double step_seconds = 0, items = 0, items_per_second = 0;
  double matrix_flops = 0, flops = 0;
  double peak_flops_per_s = 0;  // the chip's dense bf16 matrix peak
  double mfu = 0;               // matrix_flops / (step_seconds * peak_flops_per_s)
  bool f32_run = false;         // matmuls still run in bf16 on the matrix engine
  // Busy fraction of each engine kind over the cores and the step time: (compute + memory
  // wait) engine-seconds / (cores x step seconds), in [0, 1] since an engine runs one
  // instruction at a time.
  double dma_utilization = 0, matrix_utilization = 0, vector_utilization = 0;
  // The step time split (they add up to step_seconds): launch overheads, copies over the host
  // link, idle (no work queued), and the programs' time shared out in proportion to the
  // engine-seconds (sim/stats.h figures summed over the DMA, Matrix and Vector engines of
  // every core) of three kinds:
  //   compute-bound: Matrix and Vector compute cycles (the engines doing arithmetic);
  //   memory-bound: DMA compute cycles (moving bytes) and every engine's memory-wait cycles
  //                 (stretched by HBM, L2, links or the scratchpad);
  //   waiting: semaphore and barrier wait cycles (engines blocked on one another).
  double compute_seconds = 0, memory_seconds = 0, waiting_seconds = 0;
  double overhead_seconds = 0, copy_seconds = 0, idle_seconds = 0;
  double hbm_bytes = 0, hbm_bytes_per_s_peak = 0;
  int64_t peak_memory_bytes = 0, hbm_capacity_bytes = 0;
  std::vector<KernelShare> kernels;  // by time, the top ones and then "other"
};

// `steps` must not be empty. `f32_run`: the run's dtype is f32.
RunReport make_run_report(const Device& device, const std::vector<StepWork>& steps, const std::string& item_unit,
                          bool f32_run, int top_kernels = 8);
std::string format_run_report(const RunReport& report);

}  // namespace tessera::runtime
