// One GEMM call's predicted time.
#include "sim/gemm_prediction.h"

#include <vector>

namespace tessera::sim {

GemmPrediction predict_gemm(const ChipSpec& chip, const GemmProblem& problem, Stats* stats) {
  GemmPrediction p;
  p.tiling = choose_gemm_tiling(chip, problem, false);
  TimingModel model(chip);
  std::vector<SimObserver*> observers;
  if (stats) observers.push_back(stats);
  p.cycles = run_timing(model, static_cast<int>(chip.cores), gemm_work(chip, problem, p.tiling), observers);
  p.seconds = p.cycles / chip.clock_hz + chip.gemm_overhead_s();
  const arch::GemmShape& s = problem.shape;
  p.flops_per_s = 2.0 * static_cast<double>(s.m) * static_cast<double>(s.n) * static_cast<double>(s.k) / p.seconds;
  return p;
}

}  // namespace tessera::sim
