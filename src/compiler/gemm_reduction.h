// The GEMM lowering's k-split: when K is split in `splits` parts, each output tile is computed
// once per part (gemm_partition.h numbers them), as the f32 partial sum of its k range, and
// stored to a workspace in the L2 (from address 0: kernels run one at a time on the cores):
// partial p of batch b is an (M x N) f32 matrix at ((p * batch + b) * M * N) * 4. After a
// barrier, the reduction pass adds the parts: the batch x M output rows are cut into equal
// ranges, one per core, each walked in pieces (rows x cols) that the DMA engine loads, part by
// part, into a double buffer while the vector engine adds the previous piece's parts (part 0
// first, then 1, 2, ...), adds the old output (accumulate), rounds to the output dtype, and the
// DMA engine stores it to HBM.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "compiler/gemm_kernel.h"
#include "isa/isa.h"

namespace tessera::compiler {

// The kernel the tiles of a split compute: f32 partial sums (M x N per batch), not accumulated.
GemmKernel partial_kernel(const GemmKernel& kernel);
// Bytes of the L2 workspace of `splits` parts.
int64_t gemm_workspace_bytes(const GemmKernel& kernel, int64_t splits);
// Whether K in `splits` parts of whole k-steps of `tile_k` works: at least 2 parts, the k-steps
// a multiple of them, a chip with an L2 that holds the workspace.
bool splittable(const GemmKernel& kernel, int64_t splits, int64_t tile_k, const arch::ChipSpec& chip);
// L2 byte address of element (row, col) of part `part`, batch `batch` in the workspace.
int64_t partial_address(const GemmKernel& kernel, int64_t part, int64_t batch, int64_t row, int64_t col);

// Semaphores of the reduction, after those of the schedule (gemm_schedule.h): per buffer 0/1.
enum GemmReductionSemaphore : int {
  kPartsFull = 22,  // a piece's parts (and old output) are loaded
  kPartsFree = 24,  // a piece's buffer has been read by the vector engine
  kSumReady = 26,   // a piece's sum is ready to store
};

struct GemmPiece {
  int64_t batch = 0, row = 0, col = 0;  // first element of the piece in the batch's (M x N) output
  int64_t rows = 0, cols = 0;
};

struct GemmReduction {
  int64_t splits = 0;
  int64_t piece_elements = 0;  // most elements of a piece
  // Byte offsets in a core's scratchpad, per buffer 0/1: parts (splits f32 slots of
  // piece_elements, one more for the old output when accumulating), the old output as stored
  // (accumulate, 16-bit output), the sum in the output dtype (16-bit output); -1: not needed.
  std::array<int64_t, 2> parts{-1, -1}, old{-1, -1}, sum{-1, -1};
  int64_t bytes = 0;
  std::vector<std::vector<GemmPiece>> cores;  // each core's pieces, in order
};

// An Error when a piece of one row does not fit the scratchpad.
GemmReduction plan_gemm_reduction(const GemmKernel& kernel, int64_t splits, const arch::ChipSpec& chip);

// Appends core `core`'s reduction instructions (HBM addresses relative to kArgOut, gemm_emit.h).
void emit_gemm_reduction(const GemmKernel& kernel, const GemmReduction& reduction, int core,
                         std::vector<isa::Instruction>& out);

// Appends to every core of `program` (from emit_gemm_program; cores added, with its argument
// `li`s, up to the reduction's) a barrier, then the core's reduction.
void append_gemm_reduction(isa::Program& program, const GemmKernel& kernel, const GemmReduction& reduction);

// "k in 8 parts: 768 rows over 32 cores in pieces of up to 6144 elements; core 0: (b0 r0 c0 6x768) ..."
std::string to_string(const GemmReduction& reduction);

}  // namespace tessera::compiler
