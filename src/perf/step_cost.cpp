// A logged step's time on a chip (see step_cost.h).
#include "perf/step_cost.h"

#include <algorithm>
#include <map>

namespace tessera::perf {

namespace {

void add_to(std::map<std::string, KernelGroup>& groups, const std::string& label, double seconds) {
  KernelGroup& g = groups[label];
  g.label = label;
  ++g.count;
  g.seconds += seconds;
}

std::vector<KernelGroup> longest_first(const std::map<std::string, KernelGroup>& groups) {
  std::vector<KernelGroup> sorted;
  for (const auto& [label, g] : groups) sorted.push_back(g);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const KernelGroup& a, const KernelGroup& b) { return a.seconds > b.seconds; });
  return sorted;
}

}  // namespace

StepCost cost_step(const std::vector<KernelCall>& log, KernelCostModel& model) {
  StepCost step;
  std::map<std::string, KernelGroup> groups, kinds;
  for (const KernelCall& call : log) {
    KernelCost c = model.cost(call);
    ++step.kernels;
    step.seconds += c.seconds;
    step.launch_s += c.launch_s;
    (c.compute_bound ? step.compute_bound_s : step.memory_bound_s) += c.body_s;
    step.flops += c.flops;
    step.f32_gemms_as_bf16 += c.f32_gemm_as_bf16 ? 1 : 0;
    add_to(groups, kernel_label(call), c.seconds);
    add_to(kinds, kernel_name(call.kernel), c.seconds);
  }
  step.groups = longest_first(groups);
  step.kinds = longest_first(kinds);
  return step;
}

}  // namespace tessera::perf
