// The GEMM lowering's partition pass: which output tiles each core computes, in which order.
// Tiles are numbered batch by batch; within a batch, in groups of 8 tile rows, column by column
// within a group, so that the tiles the cores compute together share operands in the L2. Tile
// s of that order goes to core s % cores: the cores run in waves. When K is split, every tile
// comes once per part, part by part (gemm_reduction.h).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "compiler/gemm_tiling.h"

namespace tessera::compiler {

struct GemmTile {
  int64_t batch = 0, row = 0, col = 0;  // tile indices: rows [row * tile m, ...)
  int64_t part = 0;                     // k range of a split: k-steps [part * k-steps per part, ...)
};

struct GemmPartition {
  int64_t tiles_m = 0, tiles_n = 0;  // per batch
  std::vector<std::vector<GemmTile>> cores;  // the tiles of each core that has any, in order
  int64_t waves() const;
};

GemmPartition partition_gemm(const GemmKernel& kernel, const GemmTiling& tiling, const arch::ChipSpec& chip);

// "1024 tiles (8 x 16 per batch) over 32 cores, 32 waves; core 0: (b0 r0 c0) (b0 r0 c4) ..."
std::string to_string(const GemmPartition& partition);

}  // namespace tessera::compiler
