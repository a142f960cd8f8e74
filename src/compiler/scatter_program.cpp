// scatter_along's tile program (see scatter_program.h). Jobs are dealt to the cores in turn;
// each core double-buffers its jobs: the DMA engine loads job i + 1 and stores job i - 1 while
// the vector engine fills and scatters job i.
#include "compiler/scatter_program.h"

#include <algorithm>

#include "base/error.h"
#include "compiler/instructions.h"
#include "compiler/program_key.h"

namespace tessera::compiler {

namespace {

using namespace emit;
using isa::Engine;
using isa::Instruction;

enum Semaphore { kLoaded = 0, kComputed = 1 };

// Scratchpad addresses of a job's buffers.
struct Layout {
  int64_t table[2], values[2], positions[2];
  int64_t wide = 0;  // the values widened to f32 (narrow dtypes only)
  int64_t bytes = 0;
};

Layout layout_for(const ScatterAlongTiling& t, int64_t n, DType dtype) {
  Layout l;
  Arena a;
  int64_t count = t.planes * t.cols;
  for (int set = 0; set < 2; ++set) {
    l.table[set] = a.take(count * n * 4);
    l.values[set] = a.take(count * static_cast<int64_t>(dtype_size(dtype)));
    l.positions[set] = a.take(count * 4);
  }
  l.wide = dtype == DType::F32 ? -1 : a.take(count * 4);
  l.bytes = a.next;
  return l;
}

}  // namespace

ScatterAlongTiling scatter_along_tiling(const arch::ChipSpec& chip, int64_t outer, int64_t n, int64_t inner,
                                        DType dtype) {
  auto fits = [&](ScatterAlongTiling t) { return layout_for(t, n, dtype).bytes <= chip.scratchpad_bytes; };
  ScatterAlongTiling t{1, inner};
  if (fits(t)) {
    // Whole planes: as many per job as fit, up to one share per core.
    int64_t most = ceil_div(outer, chip.cores);
    while (t.planes < most && fits({t.planes * 2, inner})) t.planes *= 2;
    t.planes = std::min(t.planes, most);
    return t;
  }
  // Blocks of columns of one plane.
  int64_t low = 0, high = inner;
  while (low < high) {
    int64_t mid = (low + high + 1) / 2;
    if (fits({1, mid}))
      low = mid;
    else
      high = mid - 1;
  }
  if (low < 1)
    fail("chip {}: scatter_along over {} positions needs {} bytes of scratchpad per column, the chip has {}",
         chip.name, n, layout_for({1, 1}, n, dtype).bytes, chip.scratchpad_bytes);
  t.cols = low;
  return t;
}

int32_t scatter_along_position(const ScatterAlongTiling& t, int64_t n, int64_t inner, int64_t o, int64_t j,
                               int64_t i) {
  int64_t i0 = i / t.cols * t.cols, cols = std::min(t.cols, inner - i0);
  return static_cast<int32_t>((o % t.planes * n + j) * cols + (i - i0));
}

isa::Program scatter_along_program(const arch::ChipSpec& chip, const ScatterAlongTiling& t, int64_t outer, int64_t n,
                                   int64_t inner, DType dtype, int64_t values_addr, int64_t positions_addr,
                                   int64_t out_addr) {
  Layout l = layout_for(t, n, dtype);
  TS_ASSERT(l.bytes <= chip.scratchpad_bytes);
  auto es = static_cast<int64_t>(dtype_size(dtype));
  int64_t plane_blocks = ceil_div(outer, t.planes), col_blocks = ceil_div(inner, t.cols);
  int64_t jobs = plane_blocks * col_blocks, cores = std::min(chip.cores, jobs);
  struct Job {
    int64_t o0, planes, i0, cols;
  };
  auto job = [&](int64_t index) {
    Job j{index / col_blocks * t.planes, 0, index % col_blocks * t.cols, 0};
    j.planes = std::min(t.planes, outer - j.o0), j.cols = std::min(t.cols, inner - j.i0);
    return j;
  };
  isa::Program program;
  program.cores.resize(static_cast<size_t>(cores));
  for (int64_t core = 0; core < cores; ++core) {
    std::vector<Instruction>& s = program.cores[static_cast<size_t>(core)];
    std::vector<Job> mine;
    for (int64_t index = core; index < jobs; index += cores) mine.push_back(job(index));
    auto load = [&](size_t k) {
      const Job& j = mine[k];
      int64_t first = j.o0 * inner + j.i0;
      s.push_back(dma(spm(l.values[k % 2]), hbm(values_addr + first * es), j.planes, j.cols * es, j.cols * es,
                      inner * es));
      s.push_back(dma(spm(l.positions[k % 2]), hbm(positions_addr + first * 4), j.planes, j.cols * 4, j.cols * 4,
                      inner * 4));
      s.push_back(signal(Engine::Dma, kLoaded));
    };
    load(0);
    for (size_t k = 0; k < mine.size(); ++k) {
      if (k + 1 < mine.size()) load(k + 1);
      const Job& j = mine[k];
      int64_t count = j.planes * j.cols, entries = count * n, table = l.table[k % 2];
      int64_t values = dtype == DType::F32 ? l.values[k % 2] : l.wide;
      s.push_back(wait(Engine::Vector, kLoaded));
      s.push_back(vfill(table, 0.0f, 1, entries));
      if (dtype != DType::F32) s.push_back(vconvert(values, DType::F32, l.values[k % 2], dtype, 1, count));
      s.push_back(vscatter_add(spm(table), spm(l.positions[k % 2]), spm(values), count, 1, entries, DType::F32));
      if (dtype != DType::F32) s.push_back(vconvert(table, dtype, table, DType::F32, 1, entries));
      s.push_back(signal(Engine::Vector, kComputed));
      s.push_back(wait(Engine::Dma, kComputed));
      // (planes, n, cols) from the table into out[o0.., :, i0..].
      s.push_back(dma3d(hbm(out_addr + (j.o0 * n * inner + j.i0) * es), spm(table), j.planes, n, j.cols * es,
                        inner * es, j.cols * es, n * inner * es, n * j.cols * es));
    }
  }
  return program;
}

std::string scatter_along_key(const ScatterAlongTiling& tiling, int64_t outer, int64_t n, int64_t inner, DType dtype,
                              int64_t values_addr, int64_t positions_addr, int64_t out_addr) {
  static_assert(std::is_same_v<decltype(&scatter_along_program),
                               isa::Program (*)(const arch::ChipSpec&, const ScatterAlongTiling&, int64_t, int64_t,
                                                int64_t, DType, int64_t, int64_t, int64_t)>,
                "scatter_along_program's parameters changed: name every one in scatter_along_key");
  static_assert(field_count<ScatterAlongTiling>() == 2, "ScatterAlongTiling changed: name it in scatter_along_key");
  ProgramKey k;
  k << tiling.planes << tiling.cols << outer << n << inner << dtype << values_addr << positions_addr << out_addr;
  return k.take();
}

}  // namespace tessera::compiler
