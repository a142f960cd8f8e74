// The GEMM lowering's emit pass: each schedule step becomes its waits, its DMA, Matrix or
// Vector instructions and its signals. HBM addresses are relative to three address registers,
// the kernel's arguments, which each core's program sets first (`li r1, A`, `li r2, B`,
// `li r3, OUT`): a launch patches those three instructions (set_gemm_args), so that one program
// serves any placement of the operands. With K split, `kernel` is the partial kernel
// (gemm_reduction.h) and tiles store their partial sums to the L2 workspace.
#pragma once
#include <cstdint>
#include <vector>

#include "compiler/gemm_schedule.h"
#include "isa/isa.h"

namespace tessera::compiler {

inline constexpr int kArgA = 1, kArgB = 2, kArgOut = 3;  // registers of the operands' HBM addresses

struct GemmArgs {
  int64_t a = 0, b = 0, out = 0;  // HBM byte addresses
};

class GemmEmitter {
 public:
  GemmEmitter(const GemmKernel& kernel, const GemmTiling& tiling, const GemmLayout& layout,
              const GemmPartition& partition)
      : k_(kernel), t_(tiling), l_(layout), p_(partition) {}

  // Appends the instructions of `step` of `core`.
  void emit(int core, const GemmStep& step, std::vector<isa::Instruction>& out) const;

 private:
  void body(const GemmTile& tile, const GemmStep& step, std::vector<isa::Instruction>& out) const;

  const GemmKernel& k_;
  const GemmTiling& t_;
  const GemmLayout& l_;
  const GemmPartition& p_;
};

// The whole program: per core, the argument `li`s, then every step.
isa::Program emit_gemm_program(const GemmEmitter& emitter, const GemmSchedule& schedule, const GemmArgs& args);

// Sets the arguments of a program from emit_gemm_program.
void set_gemm_args(isa::Program& program, const GemmArgs& args);

// `inst` with its argument-relative HBM address made absolute (for timing-only runs, whose
// queues hold no registers).
isa::Instruction resolve_args(isa::Instruction inst, const GemmArgs& args);

}  // namespace tessera::compiler
