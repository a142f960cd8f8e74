// The GEMM lowering's tiling planner: the output tile (m x n), the k-step and the scratchpad
// layout of one core's buffers. a and b are double-buffered; an operand that is transposed or
// f32 is first loaded as it is in HBM into a double-buffered raw buffer and prepared by the
// vector engine (vconvert to bf16, vtranspose); the f32 accumulator holds the output tile; the
// epilogue (rounding to the output dtype, adding the old output) works through an output tile
// and, when accumulating, the old output tile. The last k-step of a tile runs as `chunks` row
// chunks, so that the epilogue and the store of the first rows overlap the mma of the last.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "compiler/gemm_kernel.h"

namespace tessera::compiler {

struct GemmTiling {
  int64_t m = 0, n = 0, k = 0;  // one mma: (m x k) @ (k x n)
  int64_t chunks = 1;           // row chunks of a tile's last k-step
  int64_t group_rows = 8;       // tile rows per group of the partition's tile order
  int64_t splits = 1;           // k ranges computed apart, their f32 sums added by gemm_reduction.h
  bool operator==(const GemmTiling&) const = default;
};

// Byte offsets in a core's scratchpad; -1 for a buffer the kernel does not need.
struct GemmLayout {
  std::array<int64_t, 2> a{-1, -1}, b{-1, -1};          // matrix dtype tiles
  std::array<int64_t, 2> raw_a{-1, -1}, raw_b{-1, -1};  // operands as in HBM, for the vector engine
  int64_t tmp = -1;        // a bf16 tile between vconvert and vtranspose (f32 transposed operands)
  int64_t acc = -1;        // f32 (m x n)
  int64_t out = -1;        // output dtype (m x n): the epilogue's result
  int64_t old = -1;        // output dtype (m x n): the old output (accumulate)
  int64_t old_f32 = -1;    // f32 (m x n): the old output widened (accumulate, 16-bit output)
  int64_t bytes = 0;       // all of them
};

bool prepares_a(const GemmKernel& k);  // a goes through the vector engine
bool prepares_b(const GemmKernel& k);
bool vector_epilogue(const GemmKernel& k);  // the output is rounded or accumulated on the vector engine

GemmLayout gemm_layout(const GemmKernel& kernel, const GemmTiling& tiling);

// The planner's tiling: among tiles built from the matrix engine's granules (the systolic
// array's side; a tensor core's smallest MMA tile and 32 bytes of depth; on a systolic chip also
// a dimension cut evenly over up to `cores` tiles) that fit the scratchpad, the one with the fewest estimated
// cycles (waves of tiles over the cores, each k-step the longer of its mma and its operands'
// share of the L2 bandwidth); ties go to the larger tile. On a systolic chip with fewer tiles than
// cores, K may also be split in 2, 4, ... parts (each a whole number of k-steps) whose f32 partial
// sums fit the L2, the estimate adding their round trip through the L2. An Error when no tile fits.
GemmTiling plan_gemm_tiling(const GemmKernel& kernel, const arch::ChipSpec& chip);

// The tiling of SCALE-Sim's compute model, where memories are unbounded: one mma per core, the
// output split along N, then M, in multiples of the granules; one k-step, one chunk.
GemmTiling ideal_gemm_tiling(const GemmKernel& kernel, const arch::ChipSpec& chip);

// Every tile size built from the granules that fits the scratchpad, with the planner's
// estimate of its cycles, fastest first (the autotuner's candidates).
std::vector<std::pair<GemmTiling, double>> gemm_tiling_candidates(const GemmKernel& kernel, const arch::ChipSpec& chip);

// "tile 256x256x256 (m x n x k), last k-step in 4 row chunks, groups of 8 tile rows" (", k in
// 4 parts") and the scratchpad's buffers.
std::string to_string(const GemmTiling& tiling, const GemmLayout& layout, const arch::ChipSpec& chip);

}  // namespace tessera::compiler
