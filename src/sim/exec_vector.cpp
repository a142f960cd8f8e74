// The Vector engine's instructions. Each reads all its inputs before writing its output, so
// an output may share bytes with an input (vtranspose excepted, as documented). Arithmetic is
// in f32 (vector_kernels.h) on values converted exactly from the tile dtype; results are
// rounded to nearest even into the dtype once. f32 tiles are computed on where they lie in the
// scratchpad; an input that the output overlaps other than exactly is copied first.
#include <algorithm>
#include <cstring>
#include <vector>

#include "base/error.h"
#include "base/random.h"
#include "sim/exec_context.h"
#include "sim/stochastic_round.h"
#include "sim/transpose_kernel.h"
#include "sim/vector_kernels.h"

namespace tessera::sim {

namespace {

using isa::Opcode;

// Work buffers, reused across instructions.
struct Buffers {
  std::vector<float> x, y, z;
  std::vector<uint8_t> bytes;
  std::vector<int32_t> indices;
};
Buffers& buffers() {
  thread_local Buffers b;
  return b;
}

// The (rows x cols) tile at `src` of `dtype` into `out` as f32.
void load(std::vector<float>& out, const uint8_t* src, DType dtype, int64_t count) {
  out.resize(static_cast<size_t>(count));
  convert_elements(src, dtype, out.data(), DType::F32, static_cast<size_t>(count));
}

void store(uint8_t* dst, DType dtype, const float* values, int64_t count) {
  convert_elements(values, DType::F32, dst, dtype, static_cast<size_t>(count));
}

// An input tile as f32 values: the tile itself when it is f32 and the output (`dst`, `dst_bytes`)
// does not overlap it, or is exactly it when `may_be_output` (the input is read in the output's
// layout); otherwise its values copied into `buffer`.
const float* f32_input(std::vector<float>& buffer, const uint8_t* src, DType dtype, int64_t count,
                       const uint8_t* dst, int64_t dst_bytes, bool may_be_output) {
  if (dtype == DType::F32 && ((may_be_output && src == dst) || !overlaps(src, count * 4, dst, dst_bytes)))
    return reinterpret_cast<const float*>(src);
  load(buffer, src, dtype, count);
  return buffer.data();
}

// Where an f32 result of `count` elements is computed: the output tile when it is f32, else a
// buffer that `store` then rounds into it.
float* f32_output(std::vector<float>& buffer, uint8_t* dst, DType dtype, int64_t count) {
  if (dtype == DType::F32) return reinterpret_cast<float*>(dst);
  buffer.resize(static_cast<size_t>(count));
  return buffer.data();
}

void vunary(const ExecContext& ctx) {
  int64_t rows = ctx.count(3), cols = ctx.count(4), n = rows * cols;
  DType dtype = ctx.float_dtype(5);
  auto fn = ctx.as<isa::UnaryFn>(0);
  uint8_t* dst = ctx.tile(1, rows, cols, dtype);
  const uint8_t* src = ctx.tile(2, rows, cols, dtype);
  Buffers& b = buffers();
  const float* x = f32_input(b.x, src, dtype, n, dst, n * 4, true);
  float* out = f32_output(b.z, dst, dtype, n);
  unary_f32(fn, x, out, n);
  if (dtype != DType::F32) store(dst, dtype, out, n);
}

void vbinary(const ExecContext& ctx) {
  int64_t rows = ctx.count(4), cols = ctx.count(5), n = rows * cols;
  DType dtype = ctx.float_dtype(6);
  auto fn = ctx.as<isa::BinaryFn>(0);
  auto bcast = ctx.as<isa::Broadcast>(7);
  int64_t b_rows = bcast == isa::Broadcast::None || bcast == isa::Broadcast::Col ? rows : 1;
  int64_t b_cols = bcast == isa::Broadcast::None || bcast == isa::Broadcast::Row ? cols : 1;
  uint8_t* dst = ctx.tile(1, rows, cols, dtype);
  const uint8_t* a = ctx.tile(2, rows, cols, dtype);
  const uint8_t* b = ctx.tile(3, b_rows, b_cols, dtype);
  Buffers& buf = buffers();
  int64_t dst_bytes = n * 4;
  const float* x = f32_input(buf.x, a, dtype, n, dst, dst_bytes, true);
  const float* y = f32_input(buf.y, b, dtype, b_rows * b_cols, dst, dst_bytes, bcast == isa::Broadcast::None);
  float* out = f32_output(buf.z, dst, dtype, n);
  binary_f32(fn, x, y, out, rows, cols, b_rows == 1 ? 0 : b_cols, b_cols == 1 ? 0 : 1);
  if (dtype != DType::F32) store(dst, dtype, out, n);
}

// Each row from its first element, then columns 1 .. cols-1 in order.
void vreduce(const ExecContext& ctx) {
  int64_t rows = ctx.count(3), cols = ctx.count(4);
  DType dtype = ctx.float_dtype(5);
  auto fn = ctx.as<isa::ReduceFn>(0);
  uint8_t* dst = ctx.tile(1, rows, 1, DType::F32);
  const uint8_t* src = ctx.tile(2, rows, cols, dtype);
  const float* x = f32_input(buffers().x, src, dtype, rows * cols, dst, rows * 4, false);
  reduce_rows_f32(fn, x, reinterpret_cast<float*>(dst), rows, cols);
}

// rne: convert_elements (every pair of dtypes). stochastic: between float dtypes, element i
// draws random_bits(seed, i); when either side is an integer dtype it converts as rne does.
void vconvert(const ExecContext& ctx) {
  int64_t rows = ctx.count(4), cols = ctx.count(5), n = rows * cols;
  DType dst_dtype = ctx.dtype(1), src_dtype = ctx.dtype(3);
  uint8_t* dst = ctx.tile(0, rows, cols, dst_dtype);
  const uint8_t* src = ctx.tile(2, rows, cols, src_dtype);
  bool stochastic = ctx.as<isa::Rounding>(6) == isa::Rounding::Stochastic && is_floating(dst_dtype) &&
                    is_floating(src_dtype);
  if (!stochastic) {
    auto dst_bytes = static_cast<int64_t>(n * dtype_size(dst_dtype));
    if (!overlaps(dst, dst_bytes, src, static_cast<int64_t>(n * dtype_size(src_dtype))))
      return convert_elements(src, src_dtype, dst, dst_dtype, static_cast<size_t>(n));
    std::vector<uint8_t>& out = buffers().bytes;
    out.resize(static_cast<size_t>(dst_bytes));
    convert_elements(src, src_dtype, out.data(), dst_dtype, static_cast<size_t>(n));
    std::memcpy(dst, out.data(), out.size());
    return;
  }
  auto seed = static_cast<uint64_t>(ctx.imm(7));
  std::vector<float>& x = buffers().x;
  load(x, src, src_dtype, n);
  for (int64_t i = 0; i < n; ++i) {
    auto random = static_cast<uint32_t>(random_bits(seed, static_cast<uint64_t>(i)) >> 32);
    x[static_cast<size_t>(i)] = stochastic_round(x[static_cast<size_t>(i)], dst_dtype, random);
  }
  store(dst, dst_dtype, x.data(), n);
}

void vtranspose(const ExecContext& ctx) {
  int64_t rows = ctx.count(2), cols = ctx.count(3);
  DType dtype = ctx.dtype(4);
  auto element = static_cast<int64_t>(dtype_size(dtype));
  uint8_t* dst = ctx.tile(0, cols, rows, dtype);
  const uint8_t* src = ctx.tile(1, rows, cols, dtype);
  if (overlaps(dst, rows * cols * element, src, rows * cols * element)) fault("dst and src overlap");
  transpose_elements(dst, src, rows, cols, element);
}

// The i32 indices, each checked to lie in [0, entries), copied before anything is written.
const std::vector<int32_t>& read_indices(const ExecContext& ctx, int operand, int64_t rows, int64_t entries) {
  const uint8_t* p = ctx.tile(operand, rows, 1, DType::I32);
  std::vector<int32_t>& indices = buffers().indices;
  indices.resize(static_cast<size_t>(rows));
  std::memcpy(indices.data(), p, indices.size() * sizeof(int32_t));
  for (int64_t i = 0; i < rows; ++i) {
    int32_t index = indices[static_cast<size_t>(i)];
    if (index < 0 || index >= entries)
      fault("index {} at row {} of {} is outside the table's entries [0, {})", index, i, ctx.operand_name(operand),
            entries);
  }
  return indices;
}

void vgather(const ExecContext& ctx) {
  int64_t rows = ctx.count(3), cols = ctx.count(4), entries = ctx.count(5);
  DType dtype = ctx.dtype(6);
  int64_t row_bytes = cols * static_cast<int64_t>(dtype_size(dtype));
  uint8_t* dst = ctx.tile(0, rows, cols, dtype);
  const uint8_t* table = ctx.tile(1, entries, cols, dtype);
  const std::vector<int32_t>& indices = read_indices(ctx, 2, rows, entries);
  bool direct = !overlaps(dst, rows * row_bytes, table, entries * row_bytes);
  std::vector<uint8_t>& buffer = buffers().bytes;
  if (!direct) buffer.resize(static_cast<size_t>(rows * row_bytes));
  uint8_t* out = direct ? dst : buffer.data();
  for (int64_t i = 0; i < rows; ++i)
    std::memcpy(out + i * row_bytes, table + indices[static_cast<size_t>(i)] * row_bytes,
                static_cast<size_t>(row_bytes));
  if (!direct) std::memcpy(dst, out, static_cast<size_t>(rows * row_bytes));
}

// Rows in index order; a table row hit twice is rounded into the dtype after each addition.
void vscatter_add(const ExecContext& ctx) {
  int64_t rows = ctx.count(3), cols = ctx.count(4), entries = ctx.count(5);
  DType dtype = ctx.float_dtype(6);
  auto row_bytes = static_cast<int64_t>(dtype_size(dtype)) * cols;
  uint8_t* table = ctx.tile(0, entries, cols, dtype);
  const std::vector<int32_t>& indices = read_indices(ctx, 1, rows, entries);
  Buffers& b = buffers();
  const uint8_t* src_tile = ctx.tile(2, rows, cols, dtype);
  const float* src = f32_input(b.x, src_tile, dtype, rows * cols, table, entries * row_bytes, false);
  std::vector<float>& row = b.y;
  row.resize(static_cast<size_t>(cols));
  for (int64_t i = 0; i < rows; ++i) {
    uint8_t* target = table + indices[static_cast<size_t>(i)] * row_bytes;
    float* sum = f32_output(row, target, dtype, cols);
    if (dtype != DType::F32) convert_elements(target, dtype, sum, DType::F32, static_cast<size_t>(cols));
    const float* add = src + i * cols;
    for (int64_t j = 0; j < cols; ++j) sum[j] += add[j];
    if (dtype != DType::F32) store(target, dtype, sum, cols);
  }
}

template <typename T>
void fill(uint8_t* dst, const uint8_t* element, int64_t count) {
  T value;
  std::memcpy(&value, element, sizeof value);
  std::fill_n(reinterpret_cast<T*>(dst), count, value);
}

void vfill(const ExecContext& ctx) {
  int64_t rows = ctx.count(2), cols = ctx.count(3);
  DType dtype = ctx.dtype(4);
  uint8_t* dst = ctx.tile(0, rows, cols, dtype);
  float value;
  auto bits = static_cast<uint32_t>(ctx.imm(1));
  std::memcpy(&value, &bits, sizeof value);
  uint8_t element[8];
  convert_elements(&value, DType::F32, element, dtype, 1);
  switch (dtype_size(dtype)) {
    case 1: return fill<uint8_t>(dst, element, rows * cols);
    case 2: return fill<uint16_t>(dst, element, rows * cols);
    case 4: return fill<uint32_t>(dst, element, rows * cols);
    case 8: return fill<uint64_t>(dst, element, rows * cols);
  }
  TS_ASSERT(!"an element size of 1, 2, 4 or 8 bytes");
}

// Element (i, j) draws at counter + i * cols + j (registers resolved at issue).
void vrandom(const ExecContext& ctx) {
  int64_t rows = ctx.count(3), cols = ctx.count(4);
  DType dtype = ctx.float_dtype(5);
  uint8_t* dst = ctx.tile(0, rows, cols, dtype);
  auto seed = static_cast<uint64_t>(ctx.imm(1)), counter = static_cast<uint64_t>(ctx.imm(2));
  std::vector<float>& x = buffers().x;
  x.resize(static_cast<size_t>(rows * cols));
  for (int64_t e = 0; e < rows * cols; ++e)
    x[static_cast<size_t>(e)] = random_uniform(seed, counter + static_cast<uint64_t>(e));
  store(dst, dtype, x.data(), rows * cols);
}

}  // namespace

void execute_vector(const ExecContext& ctx) {
  switch (ctx.inst().op) {
    case Opcode::VUnary: return vunary(ctx);
    case Opcode::VBinary: return vbinary(ctx);
    case Opcode::VReduce: return vreduce(ctx);
    case Opcode::VConvert: return vconvert(ctx);
    case Opcode::VTranspose: return vtranspose(ctx);
    case Opcode::VGather: return vgather(ctx);
    case Opcode::VScatterAdd: return vscatter_add(ctx);
    case Opcode::VFill: return vfill(ctx);
    case Opcode::VRandom: return vrandom(ctx);
    default: break;
  }
  TS_ASSERT(!"not a vector instruction");
}

}  // namespace tessera::sim
