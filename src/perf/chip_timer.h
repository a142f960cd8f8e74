// GEMM and tile-MMA times on one chip from the simulator's timing model: a GEMM is the
// compiler's program with the planner's tiling in a timing-only run (compiler/gemm_timing.h),
// cached in memory by shape and dtypes: a training step repeats the same few shapes once per
// layer, and each distinct shape is timed once.
#pragma once
#include <map>
#include <tuple>

#include "arch/chip.h"
#include "arch/systolic_cycles.h"
#include "base/dtype.h"

namespace tessera::perf {

struct GemmProblem {
  arch::GemmShape shape;       // C (M x N) = A (M x K) @ B (K x N), row-major in HBM
  DType input = DType::BF16;   // A and B
  DType output = DType::BF16;  // C; f32 is stored from the accumulator as it is
};

class ChipTimer {
 public:
  explicit ChipTimer(const arch::ChipSpec& chip) : chip_(chip) {}
  const arch::ChipSpec& chip() const { return chip_; }

  // Seconds of the compiler's GEMM program C (M x N) = A (M x K) @ B (K x N) run through the
  // timing model (HBM, L2 and scratchpad contention included), without the launch overhead.
  double gemm_seconds(const GemmProblem& problem);
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
