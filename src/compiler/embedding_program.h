// Embedding lookups on the vector engine. The table (V, C) is cut into blocks of rows that fit
// the scratchpad; the ids that fall in a block are staged, in order, as i32 row indices into it.
// Forward: each block with ids is loaded once and vgather fetches its ids' rows, which DMA
// writes to their output rows. Backward: each block of dtable with ids is loaded, the dout rows
// of its ids are scatter-added in order (vscatter_add, f32, so repeated ids add up) and the
// block is written back. Blocks go to the cores in turn, so no two cores write the same rows.
// A table that fits the scratchpad whole is one block of every core instead, and the ids are cut
// into runs of consecutive positions, one run per core (split_by_position), so that a chunk's
// output (dout) rows move in one DMA and the program does not depend on the ids: the forward
// gathers from its own copy of the table; the backward scatter-adds into a zeroed f32 table of
// its own, stores it as a partial, and after a barrier each core adds the partials of its share
// of the rows, in core order, to dtable.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "arch/chip.h"
#include "base/dtype.h"
#include "isa/isa.h"

namespace tessera::compiler {

struct EmbeddingPlan {
  struct Block {
    int64_t v0 = 0, rows = 0;         // table rows [v0, v0 + rows)
    int64_t first = 0;                // offset of its ids in the staged index array
    std::vector<int64_t> positions;   // the output (dout) rows of its ids, increasing
  };
  int64_t vocab = 0, channels = 0;
  DType dtype = DType::F32;           // of the table and out (dout)
  int64_t block_rows = 0, chunk = 0;  // table rows per block; ids per vgather / vscatter_add
  std::vector<Block> blocks;          // those with ids
  int64_t table = 0, rows = 0, indices = 0;  // HBM: table or dtable, out or dout, i32 ids within blocks
  int64_t partials = 0;  // HBM: the backward's f32 partial tables when cut by position
};

// Block and chunk sizes for `count` ids; an Error when one table row does not fit.
void plan_embedding(const arch::ChipSpec& chip, EmbeddingPlan& plan, int64_t count, bool backward);
// A plan with one block holding the whole table: its ids (in position order) cut into up to
// chip.cores blocks of consecutive positions, of the same table rows.
void split_by_position(const arch::ChipSpec& chip, EmbeddingPlan& plan);
// Whether the plan's blocks are runs of positions over the whole table (split_by_position).
bool cut_by_position(const EmbeddingPlan& plan);
// The HBM bytes of the backward's partial tables at `partials` (0 unless cut by position).
int64_t embedding_partials_bytes(const EmbeddingPlan& plan);
isa::Program embedding_program(const arch::ChipSpec& chip, const EmbeddingPlan& plan);
isa::Program embedding_backward_program(const arch::ChipSpec& chip, const EmbeddingPlan& plan);
// Every field of `plan`, its blocks' ids included, as a program cache key (program_key.h): the
// programs spell out where each id's row goes, so a batch of other ids makes other programs.
std::string embedding_key(const EmbeddingPlan& plan);

}  // namespace tessera::compiler
