// dma.copy and dma.copy3d: strided blocks between HBM, L2 and scratchpads, row by row between
// host pointers.
// Every byte of both blocks is checked to lie in its memory before anything is copied, and
// blocks in the same memory must not share a byte (rows in the same block may: the later row
// wins, in plane-major, row-major order).
#include <algorithm>
#include <cstring>
#include <vector>

#include "sim/exec_context.h"

namespace tessera::sim {

namespace {

// A strided block of `depth` planes of `rows` rows of `row_bytes` bytes.
struct Block {
  Memory* memory = nullptr;
  int64_t base = 0, depth = 1, rows = 1, row_bytes = 0, row_stride = 0, plane_stride = 0;

  int64_t row_addr(int64_t plane, int64_t row) const { return base + plane * plane_stride + row * row_stride; }
};

Memory& resolve_memory(const ExecContext& ctx, int i) {
  const isa::Address& a = ctx.addr(i);
  if (a.space == isa::Space::Spm && a.core >= 0 && a.core >= ctx.memory.cores())
    fault("{}: spm@{} names a core the chip does not have (cores 0..{})", ctx.operand_name(i), a.core,
          ctx.memory.cores() - 1);
  return ctx.memory.at(a.space, a.space == isa::Space::Spm && a.core >= 0 ? a.core : ctx.issued.core);
}

// The bytes [lo, hi) that `block` spans.
struct Extent {
  __int128 lo, hi;
};
Extent extent(const Block& b) {
  __int128 plane_span = static_cast<__int128>(b.depth - 1) * b.plane_stride;
  __int128 row_span = static_cast<__int128>(b.rows - 1) * b.row_stride;
  return {b.base + std::min<__int128>(0, plane_span) + std::min<__int128>(0, row_span),
          b.base + std::max<__int128>(0, plane_span) + std::max<__int128>(0, row_span) + b.row_bytes};
}

// Faults unless every byte of `block` lies inside its memory.
void check_range(const ExecContext& ctx, int i, const Block& b) {
  auto [lo, hi] = extent(b);
  const std::string& name = b.memory->name();
  if (lo < 0 || hi > b.memory->size_bytes())
    fault("{}: the block at {}[{:#x}] reaches bytes [{}, {}) outside the {}-byte {}", ctx.operand_name(i), name,
          b.base, static_cast<int64_t>(lo), static_cast<int64_t>(hi), b.memory->size_bytes(), name);
}

// Rows in one block at most: the overlap check lists them all.
constexpr int64_t kMaxRows = int64_t{1} << 24;

// Whether a row of `dst` shares a byte with a row of `src` (same memory).
bool blocks_overlap(const Block& dst, const Block& src) {
  struct Row {
    int64_t start;
    bool is_dst;
  };
  std::vector<Row> rows;
  for (const Block* b : {&dst, &src})
    for (int64_t p = 0; p < b->depth; ++p)
      for (int64_t r = 0; r < b->rows; ++r) rows.push_back({b->row_addr(p, r), b == &dst});
  std::sort(rows.begin(), rows.end(), [](const Row& x, const Row& y) { return x.start < y.start; });
  // Sweep: the furthest end seen so far of each kind; a row starting before the other kind's
  // furthest end overlaps it.
  int64_t dst_end = INT64_MIN, src_end = INT64_MIN;
  for (const Row& row : rows) {
    if (row.start < (row.is_dst ? src_end : dst_end)) return true;
    int64_t end = row.start + (row.is_dst ? dst.row_bytes : src.row_bytes);
    (row.is_dst ? dst_end : src_end) = std::max(row.is_dst ? dst_end : src_end, end);
  }
  return false;
}

// The rows copied between host pointers: the blocks of one memory never share a byte (checked),
// rows within the destination may (the later row wins).
void copy_rows(const Block& dst, const Block& src, bool dense) {
  auto row_bytes = static_cast<size_t>(dst.row_bytes);
  for (int64_t p = 0; p < dst.depth; ++p) {
    uint8_t* to = dst.memory->span(dst.row_addr(p, 0), 0);
    const uint8_t* from = src.memory->span(src.row_addr(p, 0), 0);
    if (dense) {
      std::memcpy(to, from, row_bytes * static_cast<size_t>(dst.rows));
      continue;
    }
    for (int64_t r = 0; r < dst.rows; ++r)
      std::memcpy(to + r * dst.row_stride, from + r * src.row_stride, row_bytes);
  }
}

}  // namespace

void execute_dma(const ExecContext& ctx) {
  bool is_3d = ctx.inst().op == isa::Opcode::DmaCopy3d;
  Block dst, src;
  dst.memory = &resolve_memory(ctx, 0);
  src.memory = &resolve_memory(ctx, 1);
  dst.base = ctx.addr(0).offset;
  src.base = ctx.addr(1).offset;
  int first = 2;
  if (is_3d) dst.depth = src.depth = ctx.count(first++, kMaxRows);
  dst.rows = src.rows = ctx.count(first++, kMaxRows);
  dst.row_bytes = src.row_bytes = ctx.count(first++);
  dst.row_stride = ctx.imm(first++);
  src.row_stride = ctx.imm(first++);
  if (is_3d) {
    dst.plane_stride = ctx.imm(first++);
    src.plane_stride = ctx.imm(first++);
  }
  if (dst.depth * dst.rows > kMaxRows)
    fault("{} x {} rows are more than a DMA moves at once ({})", dst.depth, dst.rows, kMaxRows);
  check_range(ctx, 0, dst);
  check_range(ctx, 1, src);
  if (dst.memory == src.memory && blocks_overlap(dst, src))
    fault("the source block at {}[{:#x}] and the destination block at {}[{:#x}] overlap", src.memory->name(),
          src.base, dst.memory->name(), dst.base);

  bool dense = dst.row_stride == dst.row_bytes && src.row_stride == src.row_bytes;
  copy_rows(dst, src, dense);
}

}  // namespace tessera::sim
