// The Vector engine computes f32 tiles where they lie in the scratchpad and copies an input
// first only when the output overlaps it other than exactly. These tests run random vunary,
// vbinary, vreduce, vgather and vscatter_add instructions, in every dtype, with outputs that
// miss their inputs, are them, or overlap them by a few elements, against a plain model that
// reads every input before writing anything, one element at a time, and compare the whole
// scratchpad region byte for byte (so that an overrun shows too), NaNs of the output's dtype
// counting as equal.
#include <cmath>

#include "base/random.h"
#include "isa/disassembler.h"
#include "sim/vector_math.h"
#include "sim_test_util.h"

namespace tessera::sim::testing {
namespace {

using isa::BinaryFn;
using isa::Broadcast;
using isa::ReduceFn;
using isa::UnaryFn;

constexpr int64_t kRegion = 1 << 16;  // bytes of scratchpad the tests use, from address 0
constexpr DType kDtypes[] = {DType::F32, DType::F32, DType::F32, DType::BF16, DType::F16, DType::F8E4M3};

// Random draws from a counter-based stream.
struct Draw {
  uint64_t seed, counter = 0;
  int64_t below(int64_t n) { return static_cast<int64_t>(random_bits(seed, counter++) % static_cast<uint64_t>(n)); }
  float value() {
    switch (below(12)) {
      case 0: return NAN;
      case 1: return below(2) ? INFINITY : -INFINITY;
      case 2: return below(2) ? 0.0f : -0.0f;
      default: return 4.0f * random_normal(seed, counter++);
    }
  }
};

// The scratchpad region as bytes, with typed element access.
struct Image {
  std::vector<uint8_t> bytes = std::vector<uint8_t>(kRegion);
  float get(int64_t addr, DType dtype) const {
    float v;
    convert_elements(bytes.data() + addr, dtype, &v, DType::F32, 1);
    return v;
  }
  void set(int64_t addr, DType dtype, float v) { convert_elements(&v, DType::F32, bytes.data() + addr, dtype, 1); }
};

float relu(float x) { return std::isnan(x) ? x : (x > 0.0f ? x : 0.0f); }
float plain_unary(UnaryFn fn, float x) {
  switch (fn) {
    case UnaryFn::Relu: return relu(x);
    case UnaryFn::Exp: return exp_scalar(x);
    case UnaryFn::Log: return std::log(x);
    case UnaryFn::Neg: return -x;
    case UnaryFn::Sqrt: return std::sqrt(x);
    case UnaryFn::Recip: return 1.0f / x;
    default: return x;
  }
}
float plain_binary(BinaryFn fn, float a, float b) {
  bool nan = std::isnan(a) || std::isnan(b);
  switch (fn) {
    case BinaryFn::Add: return a + b;
    case BinaryFn::Sub: return a - b;
    case BinaryFn::Mul: return a * b;
    case BinaryFn::Div: return a / b;
    case BinaryFn::Max: return nan ? NAN : (a > b ? a : b);
    case BinaryFn::Min: return nan ? NAN : (a < b ? a : b);
  }
  return a;
}

// One random case: a simulator whose region holds random values, and the same region as the
// plain model's input image.
struct Case {
  explicit Case(uint64_t seed) : draw{seed} {
    for (int64_t a = 0; a < kRegion; a += 4) before.set(a, DType::F32, draw.value());
    sim.memory().spm(0).write(0, before.bytes.data(), kRegion);
  }
  DType dtype() { return kDtypes[draw.below(std::size(kDtypes))]; }
  // An address for `bytes` of `dtype` elements: elsewhere, at `other`, or `other` moved by a
  // few elements either way (kept inside the region).
  int64_t near(int64_t other, int64_t bytes, DType dtype) {
    auto size = static_cast<int64_t>(dtype_size(dtype));
    int64_t shift = size * (draw.below(2) ? 1 + draw.below(8) : -1 - draw.below(8));
    switch (draw.below(3)) {
      case 0: return std::clamp<int64_t>(other + shift, 0, kRegion - bytes) / size * size;
      case 1: return std::min(other, kRegion - bytes) / size * size;
      default: return far(bytes, dtype);
    }
  }
  int64_t far(int64_t bytes, DType dtype) {
    auto size = static_cast<int64_t>(dtype_size(dtype));
    return draw.below((kRegion - bytes) / size + 1) * size;
  }
  // Runs `inst` and compares the region with `want`; two NaNs of the output's dtype count as
  // equal (when both inputs of an operation are NaN, which one's sign and payload the result
  // carries is the host's choice).
  void run_and_compare(const Instruction& inst, const Image& want, DType out_dtype) {
    SCOPED_TRACE(isa::format_instruction(inst));
    sim.run(isa::Program{{std::vector<Instruction>{inst}}});
    Image got;
    sim.memory().spm(0).read(0, got.bytes.data(), kRegion);
    auto size = static_cast<int64_t>(dtype_size(out_dtype));
    for (int64_t i = 0; i < kRegion; ++i) {
      if (got.bytes[static_cast<size_t>(i)] == want.bytes[static_cast<size_t>(i)]) continue;
      int64_t element = i / size * size;
      ASSERT_TRUE(std::isnan(got.get(element, out_dtype)) && std::isnan(want.get(element, out_dtype)))
          << "byte " << i << ": " << got.get(element, out_dtype) << " vs " << want.get(element, out_dtype);
      i = element + size - 1;
    }
  }

  Draw draw;
  arch::ChipSpec chip = small_t1(1);
  Simulator sim{chip};
  Image before;
};

TEST(VectorOverlap, UnaryAndBinaryMatchThePlainModel) {
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    SCOPED_TRACE(fmt::format("seed {}", seed));
    Case c(seed);
    DType dtype = c.dtype();
    int64_t rows = 1 + c.draw.below(20), cols = 1 + c.draw.below(70), size = static_cast<int64_t>(dtype_size(dtype));
    int64_t bytes = rows * cols * size;
    int64_t a = c.far(bytes, dtype), dst = c.near(a, bytes, dtype);
    Image want = c.before;
    if (c.draw.below(3) == 0) {
      // gelu is left out: the model's own arithmetic could be contracted differently.
      UnaryFn fn = std::array{UnaryFn::Relu, UnaryFn::Exp, UnaryFn::Log, UnaryFn::Neg, UnaryFn::Sqrt, UnaryFn::Recip,
                              UnaryFn::Copy}[static_cast<size_t>(c.draw.below(7))];
      for (int64_t i = 0; i < rows * cols; ++i)
        want.set(dst + i * size, dtype, plain_unary(fn, c.before.get(a + i * size, dtype)));
      ASSERT_NO_FATAL_FAILURE(c.run_and_compare(vunary(fn, spm(dst), spm(a), rows, cols, dtype), want, dtype));
      continue;
    }
    auto fn = static_cast<BinaryFn>(c.draw.below(6));
    auto bcast = static_cast<Broadcast>(c.draw.below(4));
    int64_t b_rows = bcast == Broadcast::None || bcast == Broadcast::Col ? rows : 1;
    int64_t b_cols = bcast == Broadcast::None || bcast == Broadcast::Row ? cols : 1;
    int64_t b = c.near(dst, b_rows * b_cols * size, dtype);
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j) {
        float bv = c.before.get(b + ((b_rows == 1 ? 0 : i) * b_cols + (b_cols == 1 ? 0 : j)) * size, dtype);
        float av = c.before.get(a + (i * cols + j) * size, dtype);
        want.set(dst + (i * cols + j) * size, dtype, plain_binary(fn, av, bv));
      }
    ASSERT_NO_FATAL_FAILURE(c.run_and_compare(
        ins(Opcode::VBinary, {en(OperandKind::BinaryFn, fn), spm(dst), spm(a), spm(b), imm(rows), imm(cols), dt(dtype),
                              en(OperandKind::Broadcast, bcast)}),
        want, dtype));
  }
}

TEST(VectorOverlap, ReduceMatchesThePlainModel) {
  for (uint64_t seed = 1; seed <= 100; ++seed) {
    SCOPED_TRACE(fmt::format("seed {}", seed));
    Case c(seed);
    DType dtype = c.dtype();
    int64_t rows = 1 + c.draw.below(30), cols = 1 + c.draw.below(50), size = static_cast<int64_t>(dtype_size(dtype));
    int64_t src = c.far(rows * cols * size, dtype), dst = c.near(src, rows * 4, DType::F32);
    auto fn = static_cast<ReduceFn>(c.draw.below(2));
    Image want = c.before;
    for (int64_t i = 0; i < rows; ++i) {
      float r = c.before.get(src + i * cols * size, dtype);
      for (int64_t j = 1; j < cols; ++j)
        r = plain_binary(fn == ReduceFn::Sum ? BinaryFn::Add : BinaryFn::Max, r,
                         c.before.get(src + (i * cols + j) * size, dtype));
      want.set(dst + i * 4, DType::F32, r);
    }
    ASSERT_NO_FATAL_FAILURE(c.run_and_compare(
        ins(Opcode::VReduce, {en(OperandKind::ReduceFn, fn), spm(dst), spm(src), imm(rows), imm(cols), dt(dtype)}),
        want, DType::F32));
  }
}

TEST(VectorOverlap, GatherAndScatterAddMatchThePlainModel) {
  for (uint64_t seed = 1; seed <= 100; ++seed) {
    SCOPED_TRACE(fmt::format("seed {}", seed));
    Case c(seed);
    DType dtype = c.dtype();
    int64_t rows = 1 + c.draw.below(20), cols = 1 + c.draw.below(40), entries = 1 + c.draw.below(12);
    int64_t size = static_cast<int64_t>(dtype_size(dtype)), row_bytes = cols * size;
    int64_t table = c.far(entries * row_bytes, dtype), data = c.near(table, rows * row_bytes, dtype);
    // The indices after both tiles, so that only the tiles overlap.
    int64_t indices = std::max(table + entries * row_bytes, data + rows * row_bytes);
    indices = (indices + 3) / 4 * 4;
    if (indices + rows * 4 > kRegion) continue;
    std::vector<int32_t> index(static_cast<size_t>(rows));
    for (int32_t& i : index) i = static_cast<int32_t>(c.draw.below(entries));
    std::memcpy(c.before.bytes.data() + indices, index.data(), index.size() * 4);
    c.sim.memory().spm(0).write(indices, index.data(), rows * 4);
    Image want = c.before;
    bool gather = c.draw.below(2) == 0;
    for (int64_t i = 0; i < rows; ++i) {
      int64_t target = table + index[static_cast<size_t>(i)] * row_bytes;
      if (gather)
        std::memcpy(want.bytes.data() + data + i * row_bytes, c.before.bytes.data() + target,
                    static_cast<size_t>(row_bytes));
      else
        for (int64_t j = 0; j < cols; ++j)
          want.set(target + j * size, dtype,
                   want.get(target + j * size, dtype) + c.before.get(data + i * row_bytes + j * size, dtype));
    }
    Opcode op = gather ? Opcode::VGather : Opcode::VScatterAdd;
    Operand first = gather ? spm(data) : spm(table), second = gather ? spm(table) : spm(indices),
            third = gather ? spm(indices) : spm(data);
    ASSERT_NO_FATAL_FAILURE(
        c.run_and_compare(ins(op, {first, second, third, imm(rows), imm(cols), imm(entries), dt(dtype)}), want, dtype));
  }
}

}  // namespace
}  // namespace tessera::sim::testing
