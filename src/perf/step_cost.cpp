// A logged step's time on a chip (see step_cost.h).
#include "perf/step_cost.h"

#include <algorithm>
#include <map>

namespace tessera::perf {

StepCost cost_step(const std::vector<KernelCall>& log, KernelCostModel& model) {
  StepCost step;
  std::map<std::string, KernelGroup> groups;
  for (const KernelCall& call : log) {
    KernelCost c = model.cost(call);
    ++step.kernels;
    step.seconds += c.seconds;
    step.launch_s += c.launch_s;
    (c.compute_bound ? step.compute_bound_s : step.memory_bound_s) += c.body_s;
    step.flops += c.flops;
    step.f32_gemms_as_bf16 += c.f32_gemm_as_bf16 ? 1 : 0;
    std::string label = kernel_label(call);
    KernelGroup& g = groups[label];
    g.label = label;
    ++g.count;
    g.seconds += c.seconds;
  }
  for (auto& [label, g] : groups) step.groups.push_back(g);
  std::stable_sort(step.groups.begin(), step.groups.end(),
                   [](const KernelGroup& a, const KernelGroup& b) { return a.seconds > b.seconds; });
  return step;
}

}  // namespace tessera::perf
