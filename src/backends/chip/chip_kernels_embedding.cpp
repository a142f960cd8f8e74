// The chip backend's embedding kernels (see chip_backend.h and compiler/embedding_program.h):
// the ids are grouped by table block on the host and staged as i32 row indices within their
// block; the table, out and dout are staged as they are (f32 or bf16).
#include <algorithm>

#include "backends/chip/chip_backend.h"
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

}  // namespace

void ChipBackend::embedding(const View& ids, const View& table, const View& out) {
  int64_t count = ids.numel();
  if (count == 0 || table.numel() == 0) return;
  TS_ASSERT(table.shape.size() == 2 && out.dtype == table.dtype);
  compiler::EmbeddingPlan p;
  p.vocab = table.shape[0], p.channels = table.shape[1], p.dtype = table.dtype;
  compiler::plan_embedding(chip(), p, count, false);
  std::vector<int64_t> id_values(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) id_values[i] = load_index(ids, i);
  std::vector<int32_t> local = group_ids(p, id_values);
  std::lock_guard lock(launch_mutex_);
  Staging hbm;
  p.table = stage_as(hbm, table, table.dtype);
  p.indices = stage(hbm, local.data(), count * 4);
  p.rows = hbm.place(out.numel() * static_cast<int64_t>(dtype_size(out.dtype)));
  run(Kernel::Embedding, compiler::embedding_program(chip(), p));
  fetch_as(out, p.rows, out.dtype);
}

void ChipBackend::embedding_backward(const View& ids, const View& dout, const View& dtable) {
  int64_t count = ids.numel();
  if (count == 0 || dtable.numel() == 0) return;
  TS_ASSERT(dtable.shape.size() == 2 && dout.dtype == dtable.dtype);
  compiler::EmbeddingPlan p;
  p.vocab = dtable.shape[0], p.channels = dtable.shape[1], p.dtype = dtable.dtype;
  compiler::plan_embedding(chip(), p, count, true);
  std::vector<int64_t> id_values(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) id_values[i] = load_index(ids, i);
  std::vector<int32_t> local = group_ids(p, id_values);
  std::lock_guard lock(launch_mutex_);
  Staging hbm;
  p.table = stage_as(hbm, dtable, dtable.dtype);
  p.rows = stage_as(hbm, dout, dout.dtype);
  p.indices = stage(hbm, local.data(), count * 4);
  run(Kernel::EmbeddingBackward, compiler::embedding_backward_program(chip(), p));
  fetch_as(dtable, p.table, dtable.dtype);
}

}  // namespace tessera
