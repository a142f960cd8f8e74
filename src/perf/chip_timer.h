// GEMM and tile-MMA times on one chip from the simulator's timing model (sim/gemm_program.h,
// sim/timing_run.h), cached in memory by shape and dtypes: a training step repeats the same
// few shapes once per layer, and each distinct shape is simulated once.
#pragma once
#include <map>
#include <tuple>

#include "arch/chip.h"
#include "sim/gemm_program.h"

namespace tessera::perf {

class ChipTimer {
 public:
  explicit ChipTimer(const arch::ChipSpec& chip) : chip_(chip) {}
  const arch::ChipSpec& chip() const { return chip_; }

  // Seconds of the tiled GEMM program C (M x N) = A (M x K) @ B (K x N) run through the timing
  // model (HBM, L2 and scratchpad contention included), without the launch overhead.
  double gemm_seconds(const sim::GemmProblem& problem);
  // Cycles of one mma (m x k) @ (k x n) with `input` operands on one core's matrix engine,
  // its scratchpad traffic included (alone on the chip).
  double mma_cycles(int64_t m, int64_t n, int64_t k, DType input);
  int64_t gemms_simulated() const { return static_cast<int64_t>(gemm_cache_.size()); }

 private:
  using Key = std::tuple<int64_t, int64_t, int64_t, DType, DType>;
  arch::ChipSpec chip_;
  std::map<Key, double> gemm_cache_, mma_cache_;
};

}  // namespace tessera::perf
