// The elementwise and reduction tile programs (see tile_program.h). Programs are straight-line
// per core with absolute addresses; semaphores order the DMA and Vector queues of a core.
#include "compiler/tile_program.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "base/error.h"
#include "compiler/emit.h"
#include "compiler/program_key.h"

namespace tessera::compiler {

using namespace emit;

namespace {

enum ElementwiseSemaphore { kLoaded = 0, kComputed = 1 };
enum ReduceSemaphore { kTileLoaded = 0, kTileFree = 1, kJobDone = 2, kOldRoom = 3, kOldLoaded = 4 };

}  // namespace

static int64_t elementwise_tile_cols(const ElementwisePlan& p) {
  return p.whole_rows ? p.cols : std::min<int64_t>(p.cols, 1024);
}

namespace {

// One tile of a plan: rows [r0, r0 + nr) and columns [c0, c0 + nc), of `segment` when the plan
// has segments (r0 = 0, nr = 1, c0 counted from the segment's start).
struct Tile {
  int64_t r0 = 0, c0 = 0, nr = 0, nc = 0;
  const ElementwisePlan::Segment* segment = nullptr;
};

// The plan's tiles in order: row-major blocks of (tile_rows x tile_cols), or each segment's
// columns in blocks of tile_cols.
std::vector<Tile> elementwise_tiles(const ElementwisePlan& p, int64_t tile_rows, int64_t tile_cols) {
  std::vector<Tile> tiles;
  if (p.segments.empty()) {
    for (int64_t r0 = 0; r0 < p.rows; r0 += tile_rows)
      for (int64_t c0 = 0; c0 < p.cols; c0 += tile_cols)
        tiles.push_back({r0, c0, std::min(tile_rows, p.rows - r0), std::min(tile_cols, p.cols - c0)});
    return tiles;
  }
  int64_t cols = 0;
  for (const ElementwisePlan::Segment& segment : p.segments) {
    TS_ASSERT(segment.input_addrs.size() == p.inputs.size() && segment.output_addrs.size() == p.outputs.size());
    for (int64_t c0 = 0; c0 < segment.cols; c0 += tile_cols)
      tiles.push_back({0, c0, 1, std::min(tile_cols, segment.cols - c0), &segment});
    cols += segment.cols;
  }
  TS_ASSERT(p.rows == 1 && !p.whole_rows && cols == p.cols);
  for (const ElementwisePlan::Input& in : p.inputs)
    TS_ASSERT(in.layout == ElementwisePlan::Layout::Full || in.layout == ElementwisePlan::Layout::Scalar);
  for (const ElementwisePlan::Op& op : p.ops) TS_ASSERT(op.kind != ElementwisePlan::Op::Kind::Random);
  for (const ElementwisePlan::Output& out : p.outputs) TS_ASSERT(!out.per_row);
  return tiles;
}

// Scratchpad addresses for tiles of (tile_rows x tile_cols): the constants (one f32 after
// another), then two buffer sets of every other slot and of the raw tile of each input stored
// narrower than f32.
struct ScratchpadLayout {
  std::vector<std::array<int64_t, 2>> slot, raw;  // raw: only for narrow inputs
  int64_t bytes = 0;
};

ScratchpadLayout scratchpad_layout(const ElementwisePlan& p, int64_t tile_rows, int64_t tile_cols) {
  using Layout = ElementwisePlan::Layout;
  ScratchpadLayout l;
  l.slot.resize(static_cast<size_t>(p.slot_count()));
  l.raw.resize(p.inputs.size());
  Arena a;
  int64_t constants = a.take(static_cast<int64_t>(p.constants.size()) * 4);
  for (size_t c = 0; c < p.constants.size(); ++c) {
    int64_t addr = constants + static_cast<int64_t>(c) * 4;
    l.slot[static_cast<size_t>(p.constant_slot(static_cast<int>(c)))] = {addr, addr};
  }
  auto elements = [&](Layout layout) {
    return layout == Layout::Full ? tile_rows * tile_cols
           : layout == Layout::Row ? tile_cols
           : layout == Layout::Col ? tile_rows
                                   : 1;
  };
  for (int set = 0; set < 2; ++set)
    for (int s = 0; s < p.slot_count(); ++s) {
      if (s >= p.constant_slot(0) && s < p.temporary_slot(0)) continue;
      bool input = s < static_cast<int>(p.inputs.size());
      Layout layout = p.slot_layout(s);
      l.slot[s][set] = a.take(elements(layout) * 4);
      if (input && p.inputs[s].dtype != DType::F32)
        l.raw[s][set] = a.take(elements(layout) * static_cast<int64_t>(dtype_size(p.inputs[s].dtype)));
    }
  l.bytes = a.next;
  return l;
}

}  // namespace

int64_t elementwise_scratchpad_bytes(const ElementwisePlan& p, int64_t tile_rows) {
  return scratchpad_layout(p, tile_rows, elementwise_tile_cols(p)).bytes;
}

int64_t elementwise_tile_rows(const arch::ChipSpec& chip, const ElementwisePlan& p) {
  // The most rows (up to one share per core) whose buffers fit: bytes grow with the rows.
  int64_t low = 0, high = ceil_div(p.rows, chip.cores);
  while (low < high) {
    int64_t mid = (low + high + 1) / 2;
    if (elementwise_scratchpad_bytes(p, mid) <= chip.scratchpad_bytes)
      low = mid;
    else
      high = mid - 1;
  }
  if (low < 1)
    fail("chip {}: an elementwise tile of {} columns with {} slots does not fit its {} bytes of scratchpad", chip.name,
         elementwise_tile_cols(p), p.slot_count(), chip.scratchpad_bytes);
  return low;
}

std::vector<uint8_t> elementwise_arguments(const ElementwisePlan& p) {
  std::vector<uint8_t> bytes(p.constants.size() * sizeof(float));
  if (!bytes.empty()) std::memcpy(bytes.data(), p.constants.data(), bytes.size());
  return bytes;
}

ElementwiseProgram elementwise_program(const arch::ChipSpec& chip, const ElementwisePlan& p) {
  using Layout = ElementwisePlan::Layout;
  int64_t tile_cols = elementwise_tile_cols(p);
  int64_t tile_rows = elementwise_tile_rows(chip, p);
  ScratchpadLayout layout = scratchpad_layout(p, tile_rows, tile_cols);
  TS_ASSERT(layout.bytes <= chip.scratchpad_bytes);
  const std::vector<std::array<int64_t, 2>>& slot_addr = layout.slot;

  std::vector<Tile> tiles = elementwise_tiles(p, tile_rows, tile_cols);
  int64_t cores = std::min(chip.cores, static_cast<int64_t>(tiles.size()));
  ElementwiseProgram result;
  if (!p.constants.empty()) result.constants_addr = slot_addr[static_cast<size_t>(p.constant_slot(0))][0];
  isa::Program& program = result.program;
  program.cores.resize(static_cast<size_t>(cores));
  for (int64_t core = 0; core < cores; ++core) {
    std::vector<Instruction>& s = program.cores[static_cast<size_t>(core)];
    std::vector<const Tile*> mine;
    for (auto t = static_cast<size_t>(core); t < tiles.size(); t += static_cast<size_t>(cores)) mine.push_back(&tiles[t]);
    auto load = [&](size_t i) {
      auto [r0, c0, nr, nc, segment] = *mine[i];
      int set = static_cast<int>(i % 2);
      for (size_t k = 0; k < p.inputs.size(); ++k) {
        const auto& in = p.inputs[k];
        bool narrow = in.dtype != DType::F32;
        TS_ASSERT(!narrow || in.layout != Layout::Scalar);
        int64_t dst = narrow ? layout.raw[k][set] : slot_addr[k][set];
        auto es = static_cast<int64_t>(dtype_size(in.dtype));
        if (in.layout == Layout::Full) {
          int64_t stride = in.row_stride ? in.row_stride : p.cols;
          int64_t base = segment ? segment->input_addrs[k] : in.hbm_addr;
          s.push_back(dma(spm(dst), hbm(base + (r0 * stride + c0) * es), nr, nc * es, nc * es, stride * es));
        } else if (in.layout == Layout::Col) {
          s.push_back(dma_bytes(spm(dst), hbm(in.hbm_addr + r0 * es), nr * es));
        } else if (in.layout == Layout::Row) {
          s.push_back(dma_bytes(spm(dst), hbm(in.hbm_addr + c0 * es), nc * es));
        } else {
          s.push_back(dma_bytes(spm(dst), hbm(in.hbm_addr), 4));
        }
      }
      s.push_back(signal(Engine::Dma, kLoaded));
    };
    if (!mine.empty()) load(0);
    for (size_t i = 0; i < mine.size(); ++i) {
      if (i + 1 < mine.size()) load(i + 1);
      auto [r0, c0, nr, nc, segment] = *mine[i];
      int set = static_cast<int>(i % 2);
      auto slot = [&](int k) { return spm(slot_addr[k][set]); };
      auto bcast = [&](const ElementwisePlan::Op& op) {
        int k = op.b;
        Layout layout = p.slot_layout(k);
        return layout == Layout::Scalar              ? isa::Broadcast::Scalar
               : op.per_row                          ? isa::Broadcast::None
               : layout == Layout::Row               ? isa::Broadcast::Row
               : layout == Layout::Col || op.col_b   ? isa::Broadcast::Col
                                                     : isa::Broadcast::None;
      };
      s.push_back(wait(Engine::Vector, kLoaded));
      // Narrow inputs widen to their f32 slots.
      for (size_t k = 0; k < p.inputs.size(); ++k) {
        const auto& in = p.inputs[k];
        if (in.dtype == DType::F32) continue;
        int64_t rows = in.layout == Layout::Row ? 1 : nr, cols = in.layout == Layout::Col ? 1 : nc;
        s.push_back(vconvert(slot(static_cast<int>(k)), DType::F32, spm(layout.raw[k][set]), in.dtype, rows, cols));
      }
      for (const auto& op : p.ops) {
        int64_t op_cols = op.per_row ? 1 : nc;
        switch (op.kind) {
          case ElementwisePlan::Op::Kind::Unary:
            s.push_back(vunary(op.unary, slot(op.dst), slot(op.a), nr, op_cols));
            break;
          case ElementwisePlan::Op::Kind::Binary:
            s.push_back(vbinary(op.binary, slot(op.dst), slot(op.a), slot(op.b), nr, op_cols, bcast(op)));
            break;
          case ElementwisePlan::Op::Kind::Reduce:
            TS_ASSERT(p.whole_rows);
            s.push_back(vreduce(op.reduce, slot(op.dst), slot(op.a), nr, nc));
            break;
          case ElementwisePlan::Op::Kind::Gather:
            TS_ASSERT(p.whole_rows);
            s.push_back(vgather(slot(op.dst), slot(op.a), slot(op.b), nr, 1, nr * nc, DType::F32));
            break;
          case ElementwisePlan::Op::Kind::ScatterAdd:
            TS_ASSERT(p.whole_rows);
            s.push_back(vscatter_add(slot(op.dst), slot(op.b), slot(op.a), nr, 1, nr * nc, DType::F32));
            break;
          case ElementwisePlan::Op::Kind::Convert:
            s.push_back(vconvert(slot(op.dst), op.to, slot(op.a), DType::F32, nr, nc));
            break;
          case ElementwisePlan::Op::Kind::Random: {
            TS_ASSERT(p.rows == 1 || tile_cols == p.cols);  // the tile's elements are consecutive
            const int seed_reg = 14, counter_reg = 15;
            s.push_back(li(seed_reg, static_cast<int64_t>(op.seed)));
            s.push_back(li(counter_reg, static_cast<int64_t>(op.counter + static_cast<uint64_t>(r0 * p.cols + c0))));
            s.push_back(vrandom(slot(op.dst), seed_reg, counter_reg, nr, nc));
            break;
          }
          case ElementwisePlan::Op::Kind::Fill:
            s.push_back(vfill(slot(op.dst), op.value, nr, nc, DType::F32));
            break;
        }
      }
      s.push_back(signal(Engine::Vector, kComputed));
      s.push_back(wait(Engine::Dma, kComputed));
      for (size_t j = 0; j < p.outputs.size(); ++j) {
        const auto& out = p.outputs[j];
        int64_t es = static_cast<int64_t>(dtype_size(out.dtype));
        int64_t base = segment ? segment->output_addrs[j] : out.hbm_addr;
        if (out.per_row)
          s.push_back(dma_bytes(hbm(base + r0 * es), slot(out.slot), nr * es));
        else
          s.push_back(dma(hbm(base + (r0 * p.cols + c0) * es), slot(out.slot), nr, nc * es, p.cols * es, nc * es));
      }
    }
  }
  return result;
}

isa::Program reduce_program(const arch::ChipSpec& chip, isa::ReduceFn fn, int64_t x_addr, int64_t out_addr,
                            int64_t outer, int64_t n, int64_t inner, DType x_dtype, DType out_dtype,
                            bool accumulate) {
  int64_t tile_cols = std::min<int64_t>(inner, 256);
  int64_t tile_n = (chip.scratchpad_bytes - 2 * align(tile_cols * 4) - 2 * kAlign) / (2 * tile_cols * 4);
  tile_n = std::min<int64_t>({tile_n, n, 1024});
  if (tile_n < 1)
    fail("chip {}: a reduction tile of {} columns does not fit its {} bytes of scratchpad", chip.name, tile_cols,
         chip.scratchpad_bytes);
  const int64_t tile = 0, transposed = align(tile_n * tile_cols * 4), partial = 2 * transposed,
                acc = partial + align(tile_cols * 4);
  int64_t col_blocks = ceil_div(inner, tile_cols), jobs = outer * col_blocks;
  int64_t cores = std::min(chip.cores, jobs);
  isa::Program program;
  program.cores.resize(static_cast<size_t>(cores));
  auto es = static_cast<int64_t>(dtype_size(x_dtype)), out_es = static_cast<int64_t>(dtype_size(out_dtype));
  for (int64_t core = 0; core < cores; ++core) {
    std::vector<Instruction>& s = program.cores[static_cast<size_t>(core)];
    bool first_load = true;
    for (int64_t job = core; job < jobs; job += cores) {
      int64_t o = job / col_blocks, c0 = job % col_blocks * tile_cols, nc = std::min(tile_cols, inner - c0);
      for (int64_t n0 = 0; n0 < n; n0 += tile_n) {
        int64_t nn = std::min(tile_n, n - n0);
        if (!first_load) s.push_back(wait(Engine::Dma, kTileFree));
        first_load = false;
        s.push_back(
            dma(spm(tile), hbm(x_addr + ((o * n + n0) * inner + c0) * es), nn, nc * es, nc * es, inner * es));
        s.push_back(signal(Engine::Dma, kTileLoaded));
        s.push_back(wait(Engine::Vector, kTileLoaded));
        // (nn x nc) -> (nc x nn): each output column's values become one row.
        s.push_back(vtranspose(spm(transposed), spm(tile), nn, nc, x_dtype));
        s.push_back(signal(Engine::Vector, kTileFree));
        s.push_back(vreduce(fn, spm(n0 == 0 ? acc : partial), spm(transposed), nc, nn, x_dtype));
        if (n0 > 0) {
          isa::BinaryFn combine = fn == isa::ReduceFn::Sum ? isa::BinaryFn::Add : isa::BinaryFn::Max;
          s.push_back(vbinary(combine, spm(acc), spm(acc), spm(partial), nc, 1));
        }
      }
      if (accumulate) {
        // The old output into the transposed tile's room, free once the last vreduce has read it
        // and until the next job's vtranspose (after these, in the Vector queue).
        s.push_back(signal(Engine::Vector, kOldRoom));
        s.push_back(wait(Engine::Dma, kOldRoom));
        s.push_back(dma_bytes(spm(transposed), hbm(out_addr + (o * inner + c0) * out_es), nc * out_es));
        s.push_back(signal(Engine::Dma, kOldLoaded));
        s.push_back(wait(Engine::Vector, kOldLoaded));
        if (out_dtype != DType::F32)
          s.push_back(vconvert(spm(transposed), DType::F32, spm(transposed), out_dtype, 1, nc));
        s.push_back(vbinary(isa::BinaryFn::Add, spm(acc), spm(transposed), spm(acc), 1, nc));
      }
      int64_t result = acc;
      if (out_dtype != DType::F32) {  // rounded into the partial's room, free until the next job's loads
        result = partial;
        s.push_back(vconvert(spm(result), out_dtype, spm(acc), DType::F32, 1, nc));
      }
      s.push_back(signal(Engine::Vector, kJobDone));
      s.push_back(wait(Engine::Dma, kJobDone));
      s.push_back(dma_bytes(hbm(out_addr + (o * inner + c0) * out_es), spm(result), nc * out_es));
    }
  }
  return program;
}

std::string reduce_key(isa::ReduceFn fn, int64_t x_addr, int64_t out_addr, int64_t outer, int64_t n, int64_t inner,
                       DType x_dtype, DType out_dtype, bool accumulate) {
  using Builder = isa::Program (*)(const arch::ChipSpec&, isa::ReduceFn, int64_t, int64_t, int64_t, int64_t, int64_t,
                                   DType, DType, bool);
  static_assert(std::is_same_v<decltype(&reduce_program), Builder>,
                "reduce_program's parameters changed: name every one in reduce_key");
  ProgramKey k;
  k << fn << x_addr << out_addr << outer << n << inner << x_dtype << out_dtype << accumulate;
  return k.take();
}

}  // namespace tessera::compiler
