// The elementwise and reduction tile programs (see tile_program.h). Programs are straight-line
// per core with absolute addresses; semaphores order the DMA and Vector queues of a core.
#include "compiler/tile_program.h"

#include <algorithm>
#include <array>
#include <bit>

#include "base/error.h"

namespace tessera::compiler {

namespace {

using isa::Engine;
using isa::Instruction;
using isa::Opcode;
using isa::Operand;
using isa::OperandKind;

constexpr int64_t kAlign = 64;  // bytes; every tile starts on this boundary

int64_t align(int64_t bytes) { return (bytes + kAlign - 1) / kAlign * kAlign; }
int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

Operand imm(int64_t v) { return {OperandKind::Imm, v, {}}; }
Operand kind(OperandKind k, int64_t v) { return {k, v, {}}; }
Operand dtype(DType d) { return kind(OperandKind::DType, static_cast<int64_t>(d)); }
Operand at(isa::Space space, int64_t offset) {
  Operand o{OperandKind::Addr, 0, {}};
  o.addr.space = space;
  o.addr.offset = offset;
  return o;
}
Operand spm(int64_t offset) { return at(isa::Space::Spm, offset); }
Operand hbm(int64_t offset) { return at(isa::Space::Hbm, offset); }

Instruction sync(Opcode op, Engine e, int sem) {
  return {op, {kind(OperandKind::EngineName, static_cast<int64_t>(e)), imm(sem)}, 0};
}
Instruction dma(Operand dst, Operand src, int64_t rows, int64_t row_bytes, int64_t dst_stride, int64_t src_stride) {
  return {Opcode::DmaCopy, {dst, src, imm(rows), imm(row_bytes), imm(dst_stride), imm(src_stride)}, 0};
}

enum ElementwiseSemaphore { kLoaded = 0, kComputed = 1 };
enum ReduceSemaphore { kTileLoaded = 0, kTileFree = 1, kJobDone = 2 };

}  // namespace

static int64_t elementwise_tile_cols(const ElementwisePlan& p) {
  return p.whole_rows ? p.cols : std::min<int64_t>(p.cols, 1024);
}

namespace {

// Scratchpad addresses for tiles of (tile_rows x tile_cols): the constants, then two buffer
// sets of every other slot and of the raw tile of each input stored narrower than f32.
struct ScratchpadLayout {
  std::vector<std::array<int64_t, 2>> slot, raw;  // raw: only for narrow inputs
  int64_t bytes = 0;
};

ScratchpadLayout scratchpad_layout(const ElementwisePlan& p, int64_t tile_rows, int64_t tile_cols) {
  using Layout = ElementwisePlan::Layout;
  ScratchpadLayout l;
  l.slot.resize(static_cast<size_t>(p.slot_count()));
  l.raw.resize(p.inputs.size());
  int64_t next = 0;
  for (size_t c = 0; c < p.constants.size(); ++c) {
    l.slot[static_cast<size_t>(p.constant_slot(static_cast<int>(c)))] = {next, next};
    next += kAlign;
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
      l.slot[s][set] = next;
      next += align(elements(layout) * 4);
      if (input && p.inputs[s].dtype != DType::F32) {
        l.raw[s][set] = next;
        next += align(elements(layout) * static_cast<int64_t>(dtype_size(p.inputs[s].dtype)));
      }
    }
  l.bytes = next;
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

isa::Program elementwise_program(const arch::ChipSpec& chip, const ElementwisePlan& p) {
  using Layout = ElementwisePlan::Layout;
  int64_t tile_cols = elementwise_tile_cols(p);
  int64_t tile_rows = elementwise_tile_rows(chip, p);
  ScratchpadLayout layout = scratchpad_layout(p, tile_rows, tile_cols);
  TS_ASSERT(layout.bytes <= chip.scratchpad_bytes);
  const std::vector<std::array<int64_t, 2>>& slot_addr = layout.slot;

  int64_t row_blocks = ceil_div(p.rows, tile_rows), col_blocks = ceil_div(p.cols, tile_cols);
  int64_t tiles = row_blocks * col_blocks;
  int64_t cores = std::min(chip.cores, tiles);
  isa::Program program;
  program.cores.resize(static_cast<size_t>(cores));
  for (int64_t core = 0; core < cores; ++core) {
    std::vector<Instruction>& s = program.cores[static_cast<size_t>(core)];
    for (size_t c = 0; c < p.constants.size(); ++c)
      s.push_back({Opcode::VFill,
                   {spm(slot_addr[static_cast<size_t>(p.constant_slot(static_cast<int>(c)))][0]),
                    kind(OperandKind::FImm, std::bit_cast<uint32_t>(p.constants[c])), imm(1),
                    imm(1), dtype(DType::F32)},
                   0});
    std::vector<int64_t> mine;
    for (int64_t t = core; t < tiles; t += cores) mine.push_back(t);
    auto extent = [&](int64_t t, int64_t& r0, int64_t& c0, int64_t& nr, int64_t& nc) {
      r0 = t / col_blocks * tile_rows, c0 = t % col_blocks * tile_cols;
      nr = std::min(tile_rows, p.rows - r0), nc = std::min(tile_cols, p.cols - c0);
    };
    auto load = [&](size_t i) {
      int64_t r0, c0, nr, nc;
      extent(mine[i], r0, c0, nr, nc);
      int set = static_cast<int>(i % 2);
      for (size_t k = 0; k < p.inputs.size(); ++k) {
        const auto& in = p.inputs[k];
        bool narrow = in.dtype != DType::F32;
        TS_ASSERT(!narrow || in.layout != Layout::Scalar);
        int64_t dst = narrow ? layout.raw[k][set] : slot_addr[k][set];
        auto es = static_cast<int64_t>(dtype_size(in.dtype));
        if (in.layout == Layout::Full) {
          int64_t stride = in.row_stride ? in.row_stride : p.cols;
          s.push_back(dma(spm(dst), hbm(in.hbm_addr + (r0 * stride + c0) * es), nr, nc * es, nc * es, stride * es));
        } else if (in.layout == Layout::Col) {
          s.push_back(dma(spm(dst), hbm(in.hbm_addr + r0 * es), 1, nr * es, nr * es, nr * es));
        } else if (in.layout == Layout::Row) {
          s.push_back(dma(spm(dst), hbm(in.hbm_addr + c0 * es), 1, nc * es, nc * es, nc * es));
        } else {
          s.push_back(dma(spm(dst), hbm(in.hbm_addr), 1, 4, 4, 4));
        }
      }
      s.push_back(sync(Opcode::Signal, Engine::Dma, kLoaded));
    };
    if (!mine.empty()) load(0);
    for (size_t i = 0; i < mine.size(); ++i) {
      if (i + 1 < mine.size()) load(i + 1);
      int64_t r0, c0, nr, nc;
      extent(mine[i], r0, c0, nr, nc);
      int set = static_cast<int>(i % 2);
      auto slot = [&](int k) { return spm(slot_addr[k][set]); };
      auto bcast = [&](const ElementwisePlan::Op& op) {
        int k = op.b;
        Layout layout = p.slot_layout(k);
        isa::Broadcast b = layout == Layout::Scalar                 ? isa::Broadcast::Scalar
                           : op.per_row                             ? isa::Broadcast::None
                           : layout == Layout::Row                  ? isa::Broadcast::Row
                           : layout == Layout::Col || op.col_b      ? isa::Broadcast::Col
                                                                    : isa::Broadcast::None;
        return kind(OperandKind::Broadcast, static_cast<int64_t>(b));
      };
      s.push_back(sync(Opcode::Wait, Engine::Vector, kLoaded));
      // Narrow inputs widen to their f32 slots.
      for (size_t k = 0; k < p.inputs.size(); ++k) {
        const auto& in = p.inputs[k];
        if (in.dtype == DType::F32) continue;
        int64_t rows = in.layout == Layout::Row ? 1 : nr, cols = in.layout == Layout::Col ? 1 : nc;
        s.push_back({Opcode::VConvert,
                     {slot(static_cast<int>(k)), dtype(DType::F32), spm(layout.raw[k][set]), dtype(in.dtype), imm(rows),
                      imm(cols), kind(OperandKind::Rounding, static_cast<int64_t>(isa::Rounding::Rne)),
                      kind(OperandKind::Reg, 0)},
                     0});
      }
      for (const auto& op : p.ops) {
        int64_t op_cols = op.per_row ? 1 : nc;
        switch (op.kind) {
          case ElementwisePlan::Op::Kind::Unary:
            s.push_back({Opcode::VUnary,
                         {kind(OperandKind::UnaryFn, static_cast<int64_t>(op.unary)), slot(op.dst), slot(op.a), imm(nr),
                          imm(op_cols), dtype(DType::F32)},
                         0});
            break;
          case ElementwisePlan::Op::Kind::Binary:
            s.push_back({Opcode::VBinary,
                         {kind(OperandKind::BinaryFn, static_cast<int64_t>(op.binary)), slot(op.dst), slot(op.a),
                          slot(op.b), imm(nr), imm(op_cols), dtype(DType::F32), bcast(op)},
                         0});
            break;
          case ElementwisePlan::Op::Kind::Reduce:
            TS_ASSERT(p.whole_rows);
            s.push_back({Opcode::VReduce,
                         {kind(OperandKind::ReduceFn, static_cast<int64_t>(op.reduce)), slot(op.dst), slot(op.a),
                          imm(nr), imm(nc), dtype(DType::F32)},
                         0});
            break;
          case ElementwisePlan::Op::Kind::Gather:
            TS_ASSERT(p.whole_rows);
            s.push_back({Opcode::VGather,
                         {slot(op.dst), slot(op.a), slot(op.b), imm(nr), imm(1), imm(nr * nc), dtype(DType::F32)},
                         0});
            break;
          case ElementwisePlan::Op::Kind::ScatterAdd:
            TS_ASSERT(p.whole_rows);
            s.push_back({Opcode::VScatterAdd,
                         {slot(op.dst), slot(op.b), slot(op.a), imm(nr), imm(1), imm(nr * nc), dtype(DType::F32)},
                         0});
            break;
          case ElementwisePlan::Op::Kind::Convert:
            s.push_back({Opcode::VConvert,
                         {slot(op.dst), dtype(op.to), slot(op.a), dtype(DType::F32), imm(nr), imm(nc),
                          kind(OperandKind::Rounding, static_cast<int64_t>(isa::Rounding::Rne)),
                          kind(OperandKind::Reg, 0)},
                         0});
            break;
          case ElementwisePlan::Op::Kind::Random: {
            TS_ASSERT(p.rows == 1 || tile_cols == p.cols);  // the tile's elements are consecutive
            const int seed_reg = 14, counter_reg = 15;
            s.push_back({Opcode::Li, {kind(OperandKind::Reg, seed_reg), imm(static_cast<int64_t>(op.seed))}, 0});
            s.push_back({Opcode::Li,
                         {kind(OperandKind::Reg, counter_reg),
                          imm(static_cast<int64_t>(op.counter + static_cast<uint64_t>(r0 * p.cols + c0)))},
                         0});
            s.push_back({Opcode::VRandom,
                         {slot(op.dst), kind(OperandKind::Reg, seed_reg), kind(OperandKind::Reg, counter_reg), imm(nr),
                          imm(nc), dtype(DType::F32)},
                         0});
            break;
          }
          case ElementwisePlan::Op::Kind::Fill:
            s.push_back({Opcode::VFill,
                         {slot(op.dst), kind(OperandKind::FImm, std::bit_cast<uint32_t>(op.value)), imm(nr), imm(nc),
                          dtype(DType::F32)},
                         0});
            break;
        }
      }
      s.push_back(sync(Opcode::Signal, Engine::Vector, kComputed));
      s.push_back(sync(Opcode::Wait, Engine::Dma, kComputed));
      for (const auto& out : p.outputs) {
        int64_t es = static_cast<int64_t>(dtype_size(out.dtype));
        if (out.per_row)
          s.push_back(dma(hbm(out.hbm_addr + r0 * es), slot(out.slot), 1, nr * es, nr * es, nr * es));
        else
          s.push_back(
              dma(hbm(out.hbm_addr + (r0 * p.cols + c0) * es), slot(out.slot), nr, nc * es, p.cols * es, nc * es));
      }
    }
  }
  return program;
}

isa::Program reduce_program(const arch::ChipSpec& chip, isa::ReduceFn fn, int64_t x_addr, int64_t out_addr,
                            int64_t outer, int64_t n, int64_t inner, DType x_dtype, DType out_dtype) {
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
  Operand f32 = dtype(DType::F32), x_type = dtype(x_dtype);
  auto es = static_cast<int64_t>(dtype_size(x_dtype)), out_es = static_cast<int64_t>(dtype_size(out_dtype));
  for (int64_t core = 0; core < cores; ++core) {
    std::vector<Instruction>& s = program.cores[static_cast<size_t>(core)];
    bool first_load = true;
    for (int64_t job = core; job < jobs; job += cores) {
      int64_t o = job / col_blocks, c0 = job % col_blocks * tile_cols, nc = std::min(tile_cols, inner - c0);
      for (int64_t n0 = 0; n0 < n; n0 += tile_n) {
        int64_t nn = std::min(tile_n, n - n0);
        if (!first_load) s.push_back(sync(Opcode::Wait, Engine::Dma, kTileFree));
        first_load = false;
        s.push_back(
            dma(spm(tile), hbm(x_addr + ((o * n + n0) * inner + c0) * es), nn, nc * es, nc * es, inner * es));
        s.push_back(sync(Opcode::Signal, Engine::Dma, kTileLoaded));
        s.push_back(sync(Opcode::Wait, Engine::Vector, kTileLoaded));
        // (nn x nc) -> (nc x nn): each output column's values become one row.
        s.push_back({Opcode::VTranspose, {spm(transposed), spm(tile), imm(nn), imm(nc), x_type}, 0});
        s.push_back(sync(Opcode::Signal, Engine::Vector, kTileFree));
        s.push_back({Opcode::VReduce,
                     {kind(OperandKind::ReduceFn, static_cast<int64_t>(fn)), spm(n0 == 0 ? acc : partial),
                      spm(transposed), imm(nc), imm(nn), x_type},
                     0});
        if (n0 > 0) {
          isa::BinaryFn combine = fn == isa::ReduceFn::Sum ? isa::BinaryFn::Add : isa::BinaryFn::Max;
          s.push_back({Opcode::VBinary,
                       {kind(OperandKind::BinaryFn, static_cast<int64_t>(combine)), spm(acc), spm(acc), spm(partial),
                        imm(nc), imm(1), f32, kind(OperandKind::Broadcast, static_cast<int64_t>(isa::Broadcast::None))},
                       0});
        }
      }
      int64_t result = acc;
      if (out_dtype != DType::F32) {  // rounded into the partial's room, free until the next job's loads
        result = partial;
        s.push_back({Opcode::VConvert,
                     {spm(result), dtype(out_dtype), spm(acc), f32, imm(1), imm(nc),
                      kind(OperandKind::Rounding, static_cast<int64_t>(isa::Rounding::Rne)), kind(OperandKind::Reg, 0)},
                     0});
      }
      s.push_back(sync(Opcode::Signal, Engine::Vector, kJobDone));
      s.push_back(sync(Opcode::Wait, Engine::Dma, kJobDone));
      int64_t out_bytes = nc * out_es;
      s.push_back(dma(hbm(out_addr + (o * inner + c0) * out_es), spm(result), 1, out_bytes, out_bytes, out_bytes));
    }
  }
  return program;
}

}  // namespace tessera::compiler
