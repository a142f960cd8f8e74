// The Vector engine's instructions. Each reads all its inputs before writing its output, so
// an output may share bytes with an input (vtranspose excepted, as documented). Arithmetic is
// in f32 on values converted exactly from the tile dtype; results are rounded to nearest even
// into the dtype once. max and min return NaN when either input is NaN.
#include <cmath>
#include <cstring>
#include <vector>

#include "base/error.h"
#include "base/random.h"
#include "sim/exec_context.h"
#include "sim/stochastic_round.h"

namespace tessera::sim {

namespace {

using isa::Opcode;

// Tiles as f32 work buffers, reused across instructions.
struct Buffers {
  std::vector<float> x, y, z;
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

void store(uint8_t* dst, DType dtype, const std::vector<float>& values, int64_t count) {
  convert_elements(values.data(), DType::F32, dst, dtype, static_cast<size_t>(count));
}

float nan_max(float a, float b) { return std::isnan(a) || std::isnan(b) ? NAN : (a > b ? a : b); }
float nan_min(float a, float b) { return std::isnan(a) || std::isnan(b) ? NAN : (a < b ? a : b); }

float gelu_tanh(float x) {
  const float k = 0.7978845608f;  // sqrt(2 / pi)
  return 0.5f * x * (1.0f + std::tanh(k * (x + 0.044715f * x * x * x)));
}

float unary(isa::UnaryFn fn, float x) {
  switch (fn) {
    case isa::UnaryFn::Relu: return std::isnan(x) ? x : (x > 0.0f ? x : 0.0f);
    case isa::UnaryFn::Gelu: return gelu_tanh(x);
    case isa::UnaryFn::Exp: return std::exp(x);
    case isa::UnaryFn::Log: return std::log(x);
    case isa::UnaryFn::Neg: return -x;
    case isa::UnaryFn::Sqrt: return std::sqrt(x);
    case isa::UnaryFn::Recip: return 1.0f / x;
    case isa::UnaryFn::Copy: return x;
  }
  return x;
}

float binary(isa::BinaryFn fn, float a, float b) {
  switch (fn) {
    case isa::BinaryFn::Add: return a + b;
    case isa::BinaryFn::Sub: return a - b;
    case isa::BinaryFn::Mul: return a * b;
    case isa::BinaryFn::Div: return a / b;
    case isa::BinaryFn::Max: return nan_max(a, b);
    case isa::BinaryFn::Min: return nan_min(a, b);
  }
  return a;
}

void vunary(const ExecContext& ctx) {
  int64_t rows = ctx.count(3), cols = ctx.count(4);
  DType dtype = ctx.float_dtype(5);
  auto fn = ctx.as<isa::UnaryFn>(0);
  uint8_t* dst = ctx.tile(1, rows, cols, dtype);
  const uint8_t* src = ctx.tile(2, rows, cols, dtype);
  std::vector<float>& x = buffers().x;
  load(x, src, dtype, rows * cols);
  for (float& v : x) v = unary(fn, v);
  store(dst, dtype, x, rows * cols);
}

void vbinary(const ExecContext& ctx) {
  int64_t rows = ctx.count(4), cols = ctx.count(5);
  DType dtype = ctx.float_dtype(6);
  auto fn = ctx.as<isa::BinaryFn>(0);
  auto bcast = ctx.as<isa::Broadcast>(7);
  int64_t b_rows = bcast == isa::Broadcast::None || bcast == isa::Broadcast::Col ? rows : 1;
  int64_t b_cols = bcast == isa::Broadcast::None || bcast == isa::Broadcast::Row ? cols : 1;
  uint8_t* dst = ctx.tile(1, rows, cols, dtype);
  const uint8_t* a = ctx.tile(2, rows, cols, dtype);
  const uint8_t* b = ctx.tile(3, b_rows, b_cols, dtype);
  std::vector<float>&x = buffers().x, &y = buffers().y;
  load(x, a, dtype, rows * cols);
  load(y, b, dtype, b_rows * b_cols);
  int64_t row_step = b_rows == 1 ? 0 : b_cols, col_step = b_cols == 1 ? 0 : 1;
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      float& v = x[static_cast<size_t>(i * cols + j)];
      v = binary(fn, v, y[static_cast<size_t>(i * row_step + j * col_step)]);
    }
  store(dst, dtype, x, rows * cols);
}

// Each row from its first element, then columns 1 .. cols-1 in order.
void vreduce(const ExecContext& ctx) {
  int64_t rows = ctx.count(3), cols = ctx.count(4);
  DType dtype = ctx.float_dtype(5);
  auto fn = ctx.as<isa::ReduceFn>(0);
  uint8_t* dst = ctx.tile(1, rows, 1, DType::F32);
  const uint8_t* src = ctx.tile(2, rows, cols, dtype);
  std::vector<float>&x = buffers().x, &y = buffers().y;
  load(x, src, dtype, rows * cols);
  y.resize(static_cast<size_t>(rows));
  for (int64_t i = 0; i < rows; ++i) {
    const float* row = x.data() + i * cols;
    float r = row[0];
    for (int64_t j = 1; j < cols; ++j) r = fn == isa::ReduceFn::Sum ? r + row[j] : nan_max(r, row[j]);
    y[static_cast<size_t>(i)] = r;
  }
  store(dst, DType::F32, y, rows);
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
  std::vector<uint8_t> out(static_cast<size_t>(n) * dtype_size(dst_dtype));
  if (!stochastic) {
    convert_elements(src, src_dtype, out.data(), dst_dtype, static_cast<size_t>(n));
  } else {
    auto seed = static_cast<uint64_t>(ctx.imm(7));
    std::vector<float>& x = buffers().x;
    load(x, src, src_dtype, n);
    for (int64_t i = 0; i < n; ++i) {
      auto random = static_cast<uint32_t>(random_bits(seed, static_cast<uint64_t>(i)) >> 32);
      x[static_cast<size_t>(i)] = stochastic_round(x[static_cast<size_t>(i)], dst_dtype, random);
    }
    store(out.data(), dst_dtype, x, n);
  }
  std::memcpy(dst, out.data(), out.size());
}

void vtranspose(const ExecContext& ctx) {
  int64_t rows = ctx.count(2), cols = ctx.count(3);
  DType dtype = ctx.dtype(4);
  auto element = static_cast<int64_t>(dtype_size(dtype));
  uint8_t* dst = ctx.tile(0, cols, rows, dtype);
  const uint8_t* src = ctx.tile(1, rows, cols, dtype);
  if (overlaps(dst, rows * cols * element, src, rows * cols * element)) fault("dst and src overlap");
  constexpr int64_t kBlock = 32;  // a block of src and of dst stay in cache together
  for (int64_t i0 = 0; i0 < rows; i0 += kBlock)
    for (int64_t j0 = 0; j0 < cols; j0 += kBlock)
      for (int64_t i = i0; i < std::min(rows, i0 + kBlock); ++i)
        for (int64_t j = j0; j < std::min(cols, j0 + kBlock); ++j)
          std::memcpy(dst + (j * rows + i) * element, src + (i * cols + j) * element, static_cast<size_t>(element));
}

// The i32 indices, each checked to lie in [0, entries).
std::vector<int32_t> read_indices(const ExecContext& ctx, int operand, int64_t rows, int64_t entries) {
  const uint8_t* p = ctx.tile(operand, rows, 1, DType::I32);
  std::vector<int32_t> indices(static_cast<size_t>(rows));
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
  std::vector<int32_t> indices = read_indices(ctx, 2, rows, entries);
  std::vector<uint8_t> out(static_cast<size_t>(rows * row_bytes));
  for (int64_t i = 0; i < rows; ++i)
    std::memcpy(out.data() + i * row_bytes, table + indices[static_cast<size_t>(i)] * row_bytes,
                static_cast<size_t>(row_bytes));
  std::memcpy(dst, out.data(), out.size());
}

// Rows in index order; a table row hit twice is rounded into the dtype after each addition.
void vscatter_add(const ExecContext& ctx) {
  int64_t rows = ctx.count(3), cols = ctx.count(4), entries = ctx.count(5);
  DType dtype = ctx.float_dtype(6);
  uint8_t* table = ctx.tile(0, entries, cols, dtype);
  std::vector<int32_t> indices = read_indices(ctx, 1, rows, entries);
  std::vector<float>&src = buffers().x, &row = buffers().y;
  load(src, ctx.tile(2, rows, cols, dtype), dtype, rows * cols);
  auto row_bytes = static_cast<int64_t>(dtype_size(dtype)) * cols;
  for (int64_t i = 0; i < rows; ++i) {
    uint8_t* target = table + indices[static_cast<size_t>(i)] * row_bytes;
    load(row, target, dtype, cols);
    for (int64_t j = 0; j < cols; ++j) row[static_cast<size_t>(j)] += src[static_cast<size_t>(i * cols + j)];
    store(target, dtype, row, cols);
  }
}

void vfill(const ExecContext& ctx) {
  int64_t rows = ctx.count(2), cols = ctx.count(3);
  DType dtype = ctx.dtype(4);
  auto size = static_cast<int64_t>(dtype_size(dtype));
  uint8_t* dst = ctx.tile(0, rows, cols, dtype);
  float value;
  auto bits = static_cast<uint32_t>(ctx.imm(1));
  std::memcpy(&value, &bits, sizeof value);
  uint8_t element[8];
  convert_elements(&value, DType::F32, element, dtype, 1);
  for (int64_t i = 0; i < rows * cols; ++i) std::memcpy(dst + i * size, element, static_cast<size_t>(size));
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
  store(dst, dtype, x, rows * cols);
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
