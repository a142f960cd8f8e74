// The chip backend's embedding kernels (see chip_backend.h and compiler/embedding_program.h):
// the ids are grouped by table block on the host and staged as i32 row indices within their
// block; the table, out and dout are staged as they are (f32 or bf16).
#include <algorithm>

#include "backends/chip/chip_backend.h"
#include "backends/chip/chip_launch.h"
#include "base/error.h"
#include "compiler/embedding_program.h"

namespace tessera {

namespace {

// The blocks of `p` that hold ids, and each id's row within its block, in block order.
std::vector<int32_t> group_ids(compiler::EmbeddingPlan& p, const std::vector<int64_t>& ids) {
  int64_t blocks = (p.vocab + p.block_rows - 1) / p.block_rows;
  std::vector<std::vector<int64_t>> positions(static_cast<size_t>(blocks));
  for (size_t i = 0; i < ids.size(); ++i) positions[static_cast<size_t>(ids[i] / p.block_rows)].push_back(i);
  std::vector<int32_t> local;
  for (int64_t b = 0; b < blocks; ++b) {
    if (positions[b].empty()) continue;
    compiler::EmbeddingPlan::Block block;
    block.v0 = b * p.block_rows, block.rows = std::min(p.block_rows, p.vocab - block.v0);
    block.first = static_cast<int64_t>(local.size());
    for (int64_t i : positions[b]) local.push_back(static_cast<int32_t>(ids[i] - block.v0));
    block.positions = std::move(positions[b]);
    p.blocks.push_back(std::move(block));
  }
  return local;
}

// The plan of `ids` into `table` (V, C) (plan_embedding), its blocks those that hold ids;
// `local` receives each id's row within its block, in block order.
compiler::EmbeddingPlan plan_ids(const arch::ChipSpec& chip, const View& table, const std::vector<int64_t>& ids,
                                 bool backward, std::vector<int32_t>& local) {
  TS_ASSERT(table.shape.size() == 2);
  compiler::EmbeddingPlan p;
  p.vocab = table.shape[0], p.channels = table.shape[1], p.dtype = table.dtype;
  compiler::plan_embedding(chip, p, static_cast<int64_t>(ids.size()), backward);
  local = group_ids(p, ids);
  return p;
}

}  // namespace

void ChipBackend::embedding(const View& ids, const View& table, const View& out) {
  int64_t count = ids.numel();
  if (count == 0 || table.numel() == 0) return;
  TS_ASSERT(out.dtype == table.dtype);
  std::vector<int64_t> id_values(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) id_values[i] = load_index(ids, i);
  std::vector<int32_t> local;
  compiler::EmbeddingPlan p = plan_ids(chip(), table, id_values, false, local);
  compiler::split_by_position(chip(), p);
  Launch l(*this, Kernel::Embedding);
  p.table = l.stage_as(table, table.dtype);
  p.indices = l.stage(local.data(), count * 4);
  p.rows = l.result(out, out.dtype);
  l.run(programs_.program(chip(), "embedding", compiler::embedding_key(p),
                          [&] { return compiler::embedding_program(chip(), p); }));
}

void ChipBackend::embedding_backward(const View& ids, const View& dout, const View& dtable) {
  int64_t count = ids.numel();
  if (count == 0 || dtable.numel() == 0) return;
  TS_ASSERT(dout.dtype == dtable.dtype);
  std::vector<int64_t> id_values(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) id_values[i] = load_index(ids, i);
  std::vector<int32_t> local;
  compiler::EmbeddingPlan p = plan_ids(chip(), dtable, id_values, true, local);
  compiler::split_by_position(chip(), p);
  Launch l(*this, Kernel::EmbeddingBackward);
  p.table = l.update(dtable, dtable.dtype);
  p.rows = l.stage_as(dout, dout.dtype);
  p.indices = l.stage(local.data(), count * 4);
  p.partials = l.place(compiler::embedding_partials_bytes(p));
  l.run(programs_.program(chip(), "embedding_backward", compiler::embedding_key(p),
                          [&] { return compiler::embedding_backward_program(chip(), p); }));
}

}  // namespace tessera
