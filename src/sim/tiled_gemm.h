// A tiled GEMM as a program, for the functional simulator's benchmark and tests: C (m x n,
// f32) = A (m x k) @ B (k x n), all row-major in HBM. Output tiles go to the cores in turn;
// per tile, the DMA engine loads the k-slices of A and B into two scratchpad buffers each
// while the matrix engine multiplies the previous pair into an f32 accumulator, and the DMA
// engine stores the finished accumulator. Semaphores per core: 0/1 buffer loaded, 2/3 buffer
// free, 4 accumulator done, 5 accumulator stored.
#pragma once
#include <cstdint>

#include "arch/chip.h"
#include "base/dtype.h"
#include "isa/isa.h"

namespace tessera::sim {

struct TiledGemm {
  int64_t m = 0, n = 0, k = 0;
  DType dtype = DType::BF16;                   // of A and B
  int64_t a_addr = 0, b_addr = 0, c_addr = 0;  // in HBM
  int64_t tile_m = 0, tile_n = 0, tile_k = 0;  // one mma: (tile_m x tile_k) @ (tile_k x tile_n)
};

// The program; an Error when the tiles do not divide the matrices or do not fit the
// scratchpad.
isa::Program tiled_gemm_program(const arch::ChipSpec& chip, const TiledGemm& gemm);

}  // namespace tessera::sim
