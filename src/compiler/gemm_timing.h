// Timing-only runs of a lowered GEMM (sim/timing_run.h): the schedule's steps are emitted core
// by core, tile by tile, with the operands at fixed HBM addresses (a, then b, then out), and
// scheduled through the chip's timing model without computing any value. This is the one
// GEMM timing of the project: `tessera compile` and `tessera sim --topology`, the kernel costs
// of perf/ and the benchmarks all time GEMMs here. The reduction of a split K runs after the
// tiles (the program's barrier) in a run of its own, its time added.
#pragma once
#include <span>

#include "compiler/gemm_lowering.h"
#include "sim/timing.h"

namespace tessera::compiler {

struct GemmTime {
  GemmTiling tiling;
  double cycles = 0;           // first instruction to last
  double seconds = 0;          // cycles / clock (no launch overhead)
  double percent_of_peak = 0;  // FLOPs / (seconds x the chip's dense peak of the matrix dtype)
};

// `lowering` needs no program (GemmLowerOptions::program may be false).
GemmTime time_gemm(const GemmLowering& lowering, const arch::ChipSpec& chip,
                   std::span<sim::SimObserver* const> observers = {}, sim::TimingOptions timing = {});

// `kernel` lowered for timing only, with the planner's tiling (in ideal-bandwidth mode: the
// ideal tiling, whatever the scratchpad holds), and timed.
GemmTime time_gemm(const GemmKernel& kernel, const arch::ChipSpec& chip,
                   std::span<sim::SimObserver* const> observers = {}, sim::TimingOptions timing = {});

}  // namespace tessera::compiler
