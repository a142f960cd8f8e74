// The time of each logged kernel (backends/record/kernel_call.h) on a chip. Every kernel pays a
// fixed cost on top of its body: matmul, attention and convolution the GEMM-call overhead
// (ChipSpec::gemm_overhead_s(), the 21 us fitted on measured A100 cuBLAS calls), the others the
// kernel launch overhead (ChipSpec.launch_overhead_s):
// - matmul: the compiler's GEMM program through the simulator's timing model (chip_timer.h), with
//   16-bit inputs; f32 operands are timed as bf16 (the matrix engines take 16-bit inputs) and
//   counted in KernelCost.f32_gemm_as_bf16; an f32 output is timed as f32 (stored from the
//   accumulator), any other output in the input dtype. A batch folds into one GEMM: into M when b is
//   shared (batch stride 0), into N when a is shared, and into M otherwise (the same tiles and
//   work per tile; only the sharing of operands in the L2 differs). Transposed operands are
//   the same GEMM: a tile's DMA moves the same bytes either way. When the output has fewer
//   tiles than the chip has cores, K may be split (as GPU libraries do): s = 2, 4, ... parts,
//   while s x tiles <= cores and K / s >= 256, timed as one GEMM of s.M rows and K / s depth
//   plus the f32 reduction of the s partial outputs ((s + 1) M N 4 bytes at HBM bandwidth);
//   the fastest of these and the plain GEMM counts (on a systolic chip the compiler's planner may
//   split K itself, summing the parts in the L2: compiler/gemm_reduction.h).
// - attention, attention_backward: attention_cost.h (matrix and softmax vector work).
// - conv2d: im2col GEMMs, forward (N.OH.OW) x O x (C.KH.KW); backward dx
//   (N.OH.OW) x (C.KH.KW) x O and dweight O x (C.KH.KW) x (N.OH.OW).
// - every other kernel is memory- or vector-bound:
//     max(bytes / streaming bandwidth, elements x operations per element / fp32 vector peak)
//   with the streaming bandwidth hbm.bandwidth x hbm.efficiency (what a copy reaches)
//   and bytes = each operand's bytes once (twice when read and written; broadcast
//   dimensions once; only the gathered or scattered rows of an embedding table) and elements
//   those of the largest operand; the operations per element are listed in kernel_costs.cpp.
// Matmul, attention and conv2d bodies are at least their operands' bytes / streaming bandwidth.
// A kernel is compute-bound when its engine time (FLOPs at the chip's matrix or vector peak;
// for attention its modelled matrix and vector time) is at least its bytes at that bandwidth,
// memory-bound otherwise.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <tuple>

#include "arch/chip_figures.h"
#include "backends/record/kernel_call.h"
#include "perf/chip_timer.h"

namespace tessera::perf {

struct KernelCost {
  double seconds = 0;    // body + launch
  double body_s = 0;     // the kernel's own time
  double launch_s = 0;   // the fixed cost of this kernel: GEMM-call or launch overhead
  double compute_s = 0;  // engine time: FLOPs at peak, or attention's modelled time
  double memory_s = 0;   // bytes at the streaming HBM bandwidth
  bool compute_bound = false;
  double flops = 0;
  int64_t bytes = 0;
  bool f32_gemm_as_bf16 = false;
};

class KernelCostModel {
 public:
  explicit KernelCostModel(const arch::ChipSpec& chip);
  const arch::ChipSpec& chip() const { return timer_.chip(); }
  KernelCost cost(const KernelCall& call);

 private:
  double gemm_seconds(const GemmProblem& problem);  // split-K considered
  KernelCost gemm_cost(const KernelCall& call);
  KernelCost attention_cost(const KernelCall& call, bool backward);
  KernelCost conv_cost(const KernelCall& call, bool backward);
  KernelCost memory_bound_cost(const KernelCall& call) const;
  KernelCost finish(KernelCost cost, double overhead_s) const;  // adds the fixed cost, classifies the bound

  ChipTimer timer_;
  arch::ChipFigures figures_;
  // By (M, N, K, input, output).
  std::map<std::tuple<int64_t, int64_t, int64_t, DType, DType>, double> split_gemm_cache_;
};

// "matmul 8192x2304x768 bf16", "attention 96x1024x64 bf16", "layer_norm (8192, 768) f32":
// the kernel's name with the shape that decides its cost, for reports.
std::string kernel_label(const KernelCall& call);

}  // namespace tessera::perf
