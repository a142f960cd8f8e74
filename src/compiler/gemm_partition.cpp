// The GEMM partition pass (see gemm_partition.h).
#include "compiler/gemm_partition.h"

#include <algorithm>
#include <fmt/format.h>

namespace tessera::compiler {

namespace {

constexpr size_t kPrintedTiles = 4;  // per core, in the text form

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace

int64_t GemmPartition::waves() const {
  size_t most = 0;
  for (const auto& tiles : cores) most = std::max(most, tiles.size());
  return static_cast<int64_t>(most);
}

GemmPartition partition_gemm(const GemmKernel& kernel, const GemmTiling& tiling, const arch::ChipSpec& chip) {
  GemmPartition p;
  p.tiles_m = ceil_div(kernel.m, tiling.m);
  p.tiles_n = ceil_div(kernel.n, tiling.n);
  int64_t per_batch = p.tiles_m * p.tiles_n, per_part = kernel.batch * per_batch, total = per_part * tiling.splits;
  p.cores.resize(static_cast<size_t>(std::min(chip.cores, total)));
  const int64_t group_rows = tiling.group_rows;
  for (int64_t s = 0; s < total; ++s) {
    int64_t part = s / per_part, batch = s % per_part / per_batch, local = s % per_batch;
    int64_t group = local / (group_rows * p.tiles_n), first_row = group * group_rows;
    int64_t rows = std::min(group_rows, p.tiles_m - first_row);
    int64_t in_group = local % (group_rows * p.tiles_n);
    p.cores[static_cast<size_t>(s % chip.cores)].push_back({batch, first_row + in_group % rows, in_group / rows, part});
  }
  return p;
}

std::string to_string(const GemmPartition& p) {
  int64_t tiles = 0;
  for (const auto& c : p.cores) tiles += static_cast<int64_t>(c.size());
  std::string s = fmt::format("{} tiles ({} x {} per batch) over {} cores, {} wave{}\n", tiles, p.tiles_m, p.tiles_n,
                              p.cores.size(), p.waves(), p.waves() == 1 ? "" : "s");
  for (size_t c = 0; c < p.cores.size() && c < 2; ++c) {
    s += fmt::format("core {}:", c);
    for (size_t i = 0; i < p.cores[c].size() && i < kPrintedTiles; ++i)
      s += fmt::format(" (b{} r{} c{}{})", p.cores[c][i].batch, p.cores[c][i].row, p.cores[c][i].col,
                       p.cores[c][i].part ? fmt::format(" k{}", p.cores[c][i].part) : "");
    if (p.cores[c].size() > kPrintedTiles) s += fmt::format(" ... {} tiles", p.cores[c].size());
    s += "\n";
  }
  if (p.cores.size() > 2) s += "...\n";
  return s;
}

}  // namespace tessera::compiler
