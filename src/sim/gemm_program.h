// A GEMM as a tiled program on a chip, for timing-only runs (sim/timing_run.h): output tiles
// go to the cores round-robin (so they run in waves), in groups of 8 tile rows so that the
// tiles running together share operands in the L2. Per output tile, the DMA engine loads the
// k-slices of a and b into two scratchpad buffers each while the matrix engine multiplies the
// previous ones into an f32 accumulator; the vector engine converts the finished tile to the
// output dtype and the DMA engine stores it while the next tile computes (an f32 tile is
// stored from the accumulator as it is). A tile's store sits in the DMA queue right after the
// loads of the next tile that fill both buffers: the later loads wait for that tile's mmas,
// which wait for the buffer the store frees.
#pragma once
#include <cstdint>

#include "arch/systolic_cycles.h"
#include "base/dtype.h"
#include "sim/timing_run.h"

namespace tessera::sim {

struct GemmProblem {
  arch::GemmShape shape;     // C (M x N) = A (M x K) @ B (K x N), row-major in HBM
  DType input = DType::BF16;   // A and B
  DType output = DType::BF16;  // C; f32 stores the accumulator as it is
};

struct GemmTiling {
  int64_t m = 0, n = 0, k = 0;  // one mma: (m x k) @ (k x n)
};

// The tiling of `problem` on `chip`. In ideal-bandwidth mode memories are unbounded, as in
// SCALE-Sim's compute model: the GEMM is one mma per core (split along N, then M). Otherwise
// the tile that fits the scratchpad (double-buffered a and b, the accumulator, the output
// tile) and takes the fewest estimated cycles: waves of tiles over the cores, each k-step the
// longer of its mma (the chip's matrix engine model) and its operands' share of the L2
// bandwidth; ties go to the larger tile (less traffic).
GemmTiling choose_gemm_tiling(const ChipSpec& chip, const GemmProblem& problem, bool ideal_bandwidth);

// The work of each core for `problem` tiled by `tiling`.
WorkSource gemm_work(const ChipSpec& chip, const GemmProblem& problem, const GemmTiling& tiling);

}  // namespace tessera::sim
