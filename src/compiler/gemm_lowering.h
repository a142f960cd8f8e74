// The GEMM lowering: a straight list of passes, each with a printable result.
//   kernel (gemm_kernel.h) -> tiling and scratchpad layout (gemm_tiling.h) -> partition of the
//   output tiles across cores (gemm_partition.h) -> schedule of engine steps and semaphores
//   (gemm_schedule.h) -> [K split: the reduction of the parts (gemm_reduction.h), after a
//   barrier] -> ISA (gemm_emit.h) -> verification against the chip (isa/verifier.h).
// A lowering for timing only stops after the schedule: its timing-only run (gemm_timing.h)
// emits the instructions piece by piece, as the program would issue them.
#pragma once
#include <memory>
#include <optional>
#include <string>

#include "compiler/gemm_emit.h"
#include "compiler/gemm_reduction.h"

namespace tessera::compiler {

struct GemmLowering {
  GemmKernel kernel;
  GemmKernel product;  // what the tiles compute: the kernel, or its partial kernel when K is split
  GemmTiling tiling;
  GemmLayout layout;
  GemmPartition partition;
  GemmSchedule schedule;
  GemmReduction reduction;               // no cores when K is not split
  std::unique_ptr<GemmEmitter> emitter;  // over the fields above
  isa::Program program;                  // empty when lowered for timing only

  GemmLowering() = default;
  GemmLowering(const GemmLowering&) = delete;
  GemmLowering& operator=(const GemmLowering&) = delete;
};

struct GemmLowerOptions {
  std::optional<GemmTiling> tiling;  // instead of the planner's
  bool program = true;               // emit and verify the program
  bool unbounded_scratchpad = false; // timing only, in ideal-bandwidth mode: any tile fits
  std::string* ir = nullptr;         // when set, receives each pass's result as text
};

std::unique_ptr<GemmLowering> lower_gemm(const GemmKernel& kernel, const arch::ChipSpec& chip,
                                         const GemmLowerOptions& options = {});

}  // namespace tessera::compiler
