// The time of a whole logged step on a chip: its kernels run one after another (one stream),
// each costed by kernel_costs.h. The total splits into the bodies of compute-bound kernels,
// the bodies of memory-bound kernels and the launch overheads; kernels with the same label
// (kernel_label) are grouped, longest total first, and so are kernels of the same kind
// (kernel_name: all matmuls, all copies, ...), to show where a chip loses its time.
#pragma once
#include <string>
#include <vector>

#include "perf/kernel_costs.h"

namespace tessera::perf {

struct KernelGroup {
  std::string label;
  int64_t count = 0;
  double seconds = 0;  // launches included
};

struct StepCost {
  int64_t kernels = 0;
  double seconds = 0;
  double compute_bound_s = 0, memory_bound_s = 0, launch_s = 0;
  double flops = 0;  // executed by the kernels (matrix and vector)
  int64_t f32_gemms_as_bf16 = 0;
  std::vector<KernelGroup> groups;  // by label, longest first
  std::vector<KernelGroup> kinds;   // by kernel kind, longest first
};

StepCost cost_step(const std::vector<KernelCall>& log, KernelCostModel& model);

}  // namespace tessera::perf
