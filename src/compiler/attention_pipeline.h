// Building blocks of the attention programs (attention_program.h), whose instructions come from
// emit.h and instructions.h: the preparation pass that rounds q/k/v/dout to bf16 and lays out
// transposed blocks in HBM, and the block pipeline that the forward and both backward passes
// share.
//
// The block pipeline runs a core's jobs; a job is a list of blocks (k-blocks streamed past a
// q-block, or the reverse). Per block the DMA engine loads the block's tiles (double-buffered,
// plus the job's own tiles with its first block), the matrix engine runs stage A (products
// into f32 tiles), the vector engine turns them into bf16 tiles, and the matrix engine runs
// stage B (products into the job's f32 accumulators). The matrix engine issues stage A of
// block n + 1 before stage B of block n, so that the vector engine works on block n while the
// matrix engine computes block n + 1. At a job's end the vector engine finalises the
// accumulators into output tiles (double-buffered by job) and the DMA engine stores them.
// Semaphores are counting and consumed in order, so one per edge suffices:
// matrix <- DMA (kLoadedMatrix), vector <- DMA (kLoadedVector), DMA <- matrix (kFree: a
// buffer set read for the last time), vector <- matrix (kStageA, kAccDone), matrix <- vector
// (kStageV), DMA <- vector (kOutReady), vector <- DMA (kOutFree).
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "arch/chip.h"
#include "base/dtype.h"
#include "compiler/attention_program.h"
#include "compiler/instructions.h"
#include "isa/isa.h"

namespace tessera::compiler::attention {

using Stream = std::vector<isa::Instruction>;

enum Semaphore {
  kLoadedMatrix = 0, kLoadedVector, kFree, kStageA, kStageV, kAccDone, kOutReady, kOutFree,
  kPrepLoaded, kPrepDone, kMaskFilled, kMaskReady
};

// The shapes every attention program shares: heads = B * H rows of (T, D), cut into blocks of
// `block` rows (the last one shorter).
struct Dims {
  int64_t heads = 0, seq = 0, head_dim = 0, block = 0;
  int64_t blocks() const { return (seq + block - 1) / block; }
  int64_t rows(int64_t b) const { return std::min(block, seq - b * block); }
  // Byte offset of row `b * block` of head `bh` in a (heads, T, D) array of `element` bytes; a
  // block's transposed (D x rows) tile lives at the same offset.
  int64_t offset(int64_t bh, int64_t b, int64_t element) const { return (bh * seq + b * block) * head_dim * element; }
};

// A (heads, T, D) array in HBM as the programs move blocks of its rows: `element` bytes per
// value, strides in elements (see HeadStrides), heads_per_batch heads per batch.
struct HeadArray {
  int64_t addr = 0, element = 2;
  int64_t heads_per_batch = 1, batch = 0, head = 0, row = 0;
  int64_t row_addr(int64_t bh, int64_t t) const {
    return addr + ((bh / heads_per_batch) * batch + (bh % heads_per_batch) * head + t * row) * element;
  }
};
// The array at addr of `dtype`, laid out by `strides` (packed when they are all 0) with
// heads_per_batch heads per batch (0: all heads in one).
HeadArray head_array(const Dims& d, int64_t addr, DType dtype, const HeadStrides& strides = {},
                     int64_t heads_per_batch = 0);
// `rows` rows of head bh from row b * block on: into a packed (rows x D) tile at spm_addr, and
// from one back. Rows that lie back to back move as one contiguous copy.
isa::Instruction load_rows(int64_t spm_addr, const Dims& d, const HeadArray& a, int64_t bh, int64_t b, int64_t rows);
isa::Instruction store_rows(const Dims& d, const HeadArray& a, int64_t bh, int64_t b, int64_t spm_addr,
                            int64_t rows);

// Dims with the largest block of max_block, max_block / 2, ... (>= 8, or T when smaller) for
// which both the preparation pass and `bytes` (the scratchpad of a pass) fit the chip; an Error
// names the chip and the head dimension when none does.
Dims choose_dims(const arch::ChipSpec& chip, int64_t heads, int64_t seq, int64_t head_dim, int64_t max_block,
                 const std::function<int64_t(const Dims&)>& bytes);

// Preparation: each array (heads, T, D) in f32 or bf16 is written as bf16 (`natural`, when it
// is f32) and as transposed bf16 blocks (`transposed`); -1 skips an output. With `delta` >= 0,
// also delta (heads, T) f32 = rowsum(dout * out) of the arrays at `dout`, `out`.
struct PrepArray {
  HeadArray src;
  DType dtype = DType::F32;
  int64_t natural = -1, transposed = -1;
};
struct Prep {
  std::vector<PrepArray> arrays;
  HeadArray dout, out;
  int64_t delta = -1;
  DType dout_dtype = DType::F32, out_dtype = DType::F32;
};
// The scratchpad of the smallest preparation jobs (one block).
int64_t prep_scratchpad_bytes(const Dims& dims);
// Appends the preparation jobs to the cores' streams (round robin), each core ending with a
// barrier. A job takes up to 512 rows (whole blocks) that fit the chip's scratchpad, so that
// few long DMA copies pay the HBM latency.
void emit_prep(std::vector<Stream>& cores, const arch::ChipSpec& chip, const Dims& dims, const Prep& prep);

// Per core at the start of a pass: the causal masks (0 where key <= query, -inf elsewhere) of
// the full and the last block, in both orientations as asked, and the scale as a 1x1 tile.
struct Masks {
  int64_t row = 0;                  // (1 x 3 block): -inf, 0, -inf
  int64_t full = 0, tail = 0;       // (queries x keys)
  int64_t full_t = 0, tail_t = 0;   // (keys x queries)
  int64_t scale = 0;
  int64_t of(const Dims& d, int64_t rows, bool transposed) const;
};
Masks take_masks(emit::Arena& spm, const Dims& dims, bool transposed);
void emit_masks(Stream& s, const Dims& dims, const Masks& masks, bool transposed, float scale);

// One block of a job, as the pipeline's callbacks see it.
struct Step {
  int64_t job = 0, block = 0;  // the kernel's job id, the block within the job
  int64_t n = 0;               // the block's position on this core
  int64_t ordinal = 0;         // the job's position on this core
  bool first = false, last = false;
  int parity() const { return static_cast<int>(n % 2); }
  int job_parity() const { return static_cast<int>(ordinal % 2); }
};
struct PipelineJob {
  int64_t id = 0, blocks = 0;
};
struct Pipeline {
  bool vector_loads = false;    // the vector engine also waits for each block's loads
  bool acc_each_block = false;  // kAccDone after every block's stage B (else after a job's last)
  std::function<void(Stream&, const Step&)> load, stage_a, vector, stage_b, finalize, store;
};
// Jobs to cores, longest first, each to the least loaded core (by blocks).
std::vector<std::vector<PipelineJob>> assign_jobs(std::vector<PipelineJob> jobs, int64_t cores);
void emit_pipeline(Stream& s, const std::vector<PipelineJob>& jobs, const Pipeline& p);

}  // namespace tessera::compiler::attention
