// The embedding programs (see embedding_program.h): straight-line per core, single-buffered,
// DMA and Vector queues ordered by semaphores. Output rows of consecutive ids go in one DMA.
#include "compiler/embedding_program.h"

#include <algorithm>

#include "base/error.h"
#include "compiler/emit.h"
#include "compiler/instructions.h"
#include "compiler/program_key.h"

namespace tessera::compiler {

using namespace emit;

namespace {

enum Semaphore { kTableLoaded = 0, kTableFree = 1, kRowsLoaded = 2, kRowsFree = 3, kTableDone = 4, kGathered = 5 };

// Calls f(first, count) for each run of consecutive positions in [start, start + n).
template <typename F>
void runs(const std::vector<int64_t>& positions, int64_t start, int64_t n, F f) {
  for (int64_t r = start; r < start + n;) {
    int64_t len = 1;
    while (r + len < start + n && positions[r + len] == positions[r] + len) ++len;
    f(r, len);
    r += len;
  }
}

}  // namespace

void plan_embedding(const arch::ChipSpec& chip, EmbeddingPlan& p, int64_t count, bool backward) {
  auto es = static_cast<int64_t>(dtype_size(p.dtype));
  bool f32 = p.dtype == DType::F32;
  int64_t row = p.channels * (backward ? 4 + (f32 ? 0 : 2) : es);  // a table row in the scratchpad
  int64_t per_id = p.channels * (backward ? 4 + (f32 ? 0 : 2) : es) + 4;
  int64_t room = chip.scratchpad_bytes - 8 * kAlign;
  // The whole table in one block when it fits (split_by_position spreads its ids over the
  // cores); else blocks spread over the cores.
  bool whole_table = p.vocab <= room / 2 / row;
  p.block_rows = whole_table ? p.vocab : std::min({p.vocab, ceil_div(p.vocab, chip.cores), room / 2 / row});
  if (p.block_rows < 1)
    fail("embedding on chip {}: a table row of {} channels does not fit its {} bytes of scratchpad", chip.name,
         p.channels, chip.scratchpad_bytes);
  p.chunk = std::min(std::max<int64_t>(count, 1), (room - p.block_rows * row) / per_id);
  TS_ASSERT(p.chunk >= 1);
}

void split_by_position(const arch::ChipSpec& chip, EmbeddingPlan& p) {
  constexpr int64_t kMinIds = 16;  // ids per block at least: each block loads the whole table
  if (p.blocks.size() != 1 || p.block_rows != p.vocab) return;
  EmbeddingPlan::Block whole = std::move(p.blocks.front());
  auto count = static_cast<int64_t>(whole.positions.size());
  int64_t parts = std::max<int64_t>(1, std::min(chip.cores, count / kMinIds));
  p.blocks.clear();
  for (int64_t k = 0; k < parts; ++k) {
    int64_t lo = count * k / parts, hi = count * (k + 1) / parts;
    EmbeddingPlan::Block b;
    b.v0 = whole.v0, b.rows = whole.rows, b.first = whole.first + lo;
    b.positions.assign(whole.positions.begin() + lo, whole.positions.begin() + hi);
    p.blocks.push_back(std::move(b));
  }
}

bool cut_by_position(const EmbeddingPlan& p) { return p.block_rows == p.vocab && p.blocks.size() > 1; }

int64_t embedding_partials_bytes(const EmbeddingPlan& p) {
  return cut_by_position(p) ? static_cast<int64_t>(p.blocks.size()) * p.vocab * p.channels * 4 : 0;
}

namespace {

// A chunk of a block's ids: [start, start + n) of its positions.
struct Chunk {
  int64_t start = 0, n = 0;
  bool block_end = false;   // the block's last chunk
  bool last_block = false;  // of the block the core handles last
  bool last() const { return block_end && last_block; }
};

// The loop both programs share: each core takes every cores-th block; per block the DMA engine
// loads the block's table rows (b.rows x row_bytes) to `table` once the previous block frees it,
// then each chunk's ids to `idx` once the previous chunk frees them. What differs is given:
// table_loaded(s, b) after the Vector engine has waited for the table, chunk(s, b, c) after the
// chunk's ids are loaded, block_done(s, b, last_block) after the block's chunks.
template <typename TableLoaded, typename ChunkSteps, typename BlockDone>
isa::Program block_loop(const arch::ChipSpec& chip, const EmbeddingPlan& p, int64_t table, int64_t idx,
                        int64_t row_bytes, TableLoaded table_loaded, ChunkSteps chunk, BlockDone block_done) {
  auto jobs = static_cast<int64_t>(p.blocks.size());
  int64_t cores = std::min(chip.cores, jobs);
  isa::Program program;
  program.cores.resize(static_cast<size_t>(cores));
  for (int64_t core = 0; core < cores; ++core) {
    std::vector<Instruction>& s = program.cores[static_cast<size_t>(core)];
    bool first_chunk = true;
    for (int64_t j = core; j < jobs; j += cores) {
      const EmbeddingPlan::Block& b = p.blocks[static_cast<size_t>(j)];
      bool last_block = j + cores >= jobs;
      auto count = static_cast<int64_t>(b.positions.size());
      if (j != core) s.push_back(wait(Engine::Dma, kTableFree));
      s.push_back(dma_bytes(spm(table), hbm(p.table + b.v0 * row_bytes), b.rows * row_bytes));
      s.push_back(signal(Engine::Dma, kTableLoaded));
      s.push_back(wait(Engine::Vector, kTableLoaded));
      table_loaded(s, b);
      for (int64_t start = 0; start < count; start += p.chunk) {
        int64_t n = std::min(p.chunk, count - start);
        if (!first_chunk) s.push_back(wait(Engine::Dma, kRowsFree));
        first_chunk = false;
        s.push_back(dma_bytes(spm(idx), hbm(p.indices + (b.first + start) * 4), n * 4));
        chunk(s, b, Chunk{start, n, start + n == count, last_block});
      }
      block_done(s, b, last_block);
    }
  }
  return program;
}

}  // namespace

isa::Program embedding_program(const arch::ChipSpec& chip, const EmbeddingPlan& p) {
  auto es = static_cast<int64_t>(dtype_size(p.dtype));
  int64_t C = p.channels, row_bytes = C * es;
  Arena a;
  int64_t table = a.take(p.block_rows * row_bytes), idx = a.take(p.chunk * 4), rows = a.take(p.chunk * row_bytes);
  TS_ASSERT(a.next <= chip.scratchpad_bytes);
  auto nothing = [](auto&&...) {};
  auto gather = [&](std::vector<Instruction>& s, const EmbeddingPlan::Block& b, const Chunk& c) {
    s.push_back(signal(Engine::Dma, kRowsLoaded));
    s.push_back(wait(Engine::Vector, kRowsLoaded));
    s.push_back(vgather(spm(rows), spm(table), spm(idx), c.n, C, b.rows, p.dtype));
    if (!c.last_block && c.block_end) s.push_back(signal(Engine::Vector, kTableFree));
    s.push_back(signal(Engine::Vector, kGathered));
    s.push_back(wait(Engine::Dma, kGathered));
    runs(b.positions, c.start, c.n, [&](int64_t r, int64_t len) {
      s.push_back(dma(hbm(p.rows + b.positions[r] * row_bytes), spm(rows + (r - c.start) * row_bytes), len, row_bytes,
                      row_bytes, row_bytes));
    });
    if (!c.last()) s.push_back(signal(Engine::Dma, kRowsFree));
  };
  return block_loop(chip, p, table, idx, row_bytes, nothing, gather, nothing);
}

namespace {

// The backward cut by position (see the header): core k scatter-adds block k's ids into a zeroed
// f32 table and stores it at partials[k]; after a barrier, core c adds partials 0, 1, ... of its
// share of the table rows, in that order, to those rows of dtable.
isa::Program embedding_backward_by_position(const arch::ChipSpec& chip, const EmbeddingPlan& p) {
  auto es = static_cast<int64_t>(dtype_size(p.dtype));
  bool f32 = p.dtype == DType::F32;
  const int64_t C = p.channels, V = p.vocab, row_bytes = C * es, parts = static_cast<int64_t>(p.blocks.size());
  isa::Program program;
  program.cores.resize(static_cast<size_t>(parts));
  Arena a;
  int64_t tablef = a.take(V * C * 4), idx = a.take(p.chunk * 4), rowsf = a.take(p.chunk * C * 4);
  int64_t rows16 = f32 ? rowsf : a.take(p.chunk * row_bytes);
  TS_ASSERT(a.next <= chip.scratchpad_bytes);
  const int64_t share = ceil_div(V, parts);  // table rows per core in the sum
  Arena b;
  int64_t partial = b.take(parts * share * C * 4), acc = b.take(share * C * 4), narrow = b.take(share * row_bytes);
  TS_ASSERT(b.next <= chip.scratchpad_bytes);
  for (int64_t k = 0; k < parts; ++k) {
    std::vector<Instruction>& s = program.cores[static_cast<size_t>(k)];
    const EmbeddingPlan::Block& block = p.blocks[static_cast<size_t>(k)];
    auto count = static_cast<int64_t>(block.positions.size());
    s.push_back(vfill(spm(tablef), 0.0f, V, C, DType::F32));
    for (int64_t start = 0; start < count; start += p.chunk) {
      int64_t n = std::min(p.chunk, count - start);
      if (start > 0) s.push_back(wait(Engine::Dma, kRowsFree));
      s.push_back(dma_bytes(spm(idx), hbm(p.indices + (block.first + start) * 4), n * 4));
      runs(block.positions, start, n, [&](int64_t r, int64_t len) {
        s.push_back(dma(spm(rows16 + (r - start) * row_bytes), hbm(p.rows + block.positions[r] * row_bytes), len,
                        row_bytes, row_bytes, row_bytes));
      });
      s.push_back(signal(Engine::Dma, kRowsLoaded));
      s.push_back(wait(Engine::Vector, kRowsLoaded));
      if (!f32) s.push_back(vconvert(spm(rowsf), DType::F32, spm(rows16), p.dtype, n, C));
      s.push_back(vscatter_add(spm(tablef), spm(idx), spm(rowsf), n, C, V, DType::F32));
      if (start + n < count) s.push_back(signal(Engine::Vector, kRowsFree));
    }
    s.push_back(signal(Engine::Vector, kTableDone));
    s.push_back(wait(Engine::Dma, kTableDone));
    s.push_back(dma_bytes(hbm(p.partials + k * V * C * 4), spm(tablef), V * C * 4));
    s.push_back(barrier());
    // The sum: rows [r0, r0 + nr) of dtable (widened) + partials 0 .. parts - 1.
    int64_t r0 = std::min(V, k * share), nr = std::min(V, r0 + share) - r0;
    if (nr == 0) continue;
    s.push_back(dma_bytes(spm(f32 ? acc : narrow), hbm(p.table + r0 * row_bytes), nr * row_bytes));
    for (int64_t j = 0; j < parts; ++j)
      s.push_back(dma_bytes(spm(partial + j * nr * C * 4), hbm(p.partials + (j * V + r0) * C * 4), nr * C * 4));
    s.push_back(signal(Engine::Dma, kRowsLoaded));
    s.push_back(wait(Engine::Vector, kRowsLoaded));
    if (!f32) s.push_back(vconvert(spm(acc), DType::F32, spm(narrow), p.dtype, nr, C));
    for (int64_t j = 0; j < parts; ++j)
      s.push_back(vbinary(isa::BinaryFn::Add, acc, acc, partial + j * nr * C * 4, nr, C));
    if (!f32) s.push_back(vconvert(spm(narrow), p.dtype, spm(acc), DType::F32, nr, C));
    s.push_back(signal(Engine::Vector, kTableDone));
    s.push_back(wait(Engine::Dma, kTableDone));
    s.push_back(dma_bytes(hbm(p.table + r0 * row_bytes), spm(f32 ? acc : narrow), nr * row_bytes));
  }
  return program;
}

}  // namespace

isa::Program embedding_backward_program(const arch::ChipSpec& chip, const EmbeddingPlan& p) {
  if (cut_by_position(p)) return embedding_backward_by_position(chip, p);
  auto es = static_cast<int64_t>(dtype_size(p.dtype));
  bool f32 = p.dtype == DType::F32;
  int64_t C = p.channels, row_bytes = C * es;
  Arena a;
  int64_t tablef = a.take(p.block_rows * C * 4), table16 = f32 ? tablef : a.take(p.block_rows * row_bytes);
  int64_t idx = a.take(p.chunk * 4), rowsf = a.take(p.chunk * C * 4);
  int64_t rows16 = f32 ? rowsf : a.take(p.chunk * row_bytes);
  TS_ASSERT(a.next <= chip.scratchpad_bytes);
  auto widen = [&](std::vector<Instruction>& s, const EmbeddingPlan::Block& b) {
    if (!f32) s.push_back(vconvert(spm(tablef), DType::F32, spm(table16), p.dtype, b.rows, C));
  };
  auto scatter_add = [&](std::vector<Instruction>& s, const EmbeddingPlan::Block& b, const Chunk& c) {
    runs(b.positions, c.start, c.n, [&](int64_t r, int64_t len) {
      s.push_back(dma(spm(rows16 + (r - c.start) * row_bytes), hbm(p.rows + b.positions[r] * row_bytes), len,
                      row_bytes, row_bytes, row_bytes));
    });
    s.push_back(signal(Engine::Dma, kRowsLoaded));
    s.push_back(wait(Engine::Vector, kRowsLoaded));
    if (!f32) s.push_back(vconvert(spm(rowsf), DType::F32, spm(rows16), p.dtype, c.n, C));
    s.push_back(vscatter_add(spm(tablef), spm(idx), spm(rowsf), c.n, C, b.rows, DType::F32));
    if (!c.last()) s.push_back(signal(Engine::Vector, kRowsFree));
  };
  auto write_back = [&](std::vector<Instruction>& s, const EmbeddingPlan::Block& b, bool last_block) {
    if (!f32) s.push_back(vconvert(spm(table16), p.dtype, spm(tablef), DType::F32, b.rows, C));
    s.push_back(signal(Engine::Vector, kTableDone));
    s.push_back(wait(Engine::Dma, kTableDone));
    s.push_back(dma_bytes(hbm(p.table + b.v0 * row_bytes), spm(table16), b.rows * row_bytes));
    if (!last_block) s.push_back(signal(Engine::Dma, kTableFree));
  };
  return block_loop(chip, p, table16, idx, row_bytes, widen, scatter_add, write_back);
}

std::string embedding_key(const EmbeddingPlan& p) {
  static_assert(field_count<EmbeddingPlan>() == 10, "EmbeddingPlan changed: name every field in embedding_key");
  static_assert(field_count<EmbeddingPlan::Block>() == 4, "EmbeddingPlan::Block changed: name it in embedding_key");
  ProgramKey k;
  k << p.vocab << p.channels << p.dtype << p.block_rows << p.chunk << p.table << p.rows << p.indices << p.partials
    << p.blocks.size();
  for (const EmbeddingPlan::Block& b : p.blocks) k << b.v0 << b.rows << b.first << b.positions;
  return k.take();
}

}  // namespace tessera::compiler
