// Vector instructions against references computed here element by element: f32 arithmetic
// rounded once into the dtype (bit-exact where f32 arithmetic is exactly rounded, within a
// stated tolerance for exp, log and gelu), reductions in column order, conversions as
// base/dtype.h defines them, unbiased stochastic rounding, gather and in-order scatter-add,
// random draws as base/random.h makes them.
#include <cmath>
#include <map>

#include "base/random.h"
#include "sim_test_util.h"

namespace tessera::sim::testing {
namespace {

using isa::BinaryFn;
using isa::Broadcast;
using isa::ReduceFn;
using isa::UnaryFn;

// A one-core simulator and typed tiles in its scratchpad.
struct Bench {
  arch::ChipSpec chip = small_t1(1);
  Simulator sim{chip};
  Memory& spm() { return sim.memory().spm(0); }

  // Values of `dtype` at `addr` from f32 `values` (rounded to nearest even).
  void put(int64_t addr, DType dtype, const std::vector<float>& values) {
    std::vector<uint8_t> bytes(values.size() * dtype_size(dtype));
    convert_elements(values.data(), DType::F32, bytes.data(), dtype, values.size());
    spm().write(addr, bytes.data(), static_cast<int64_t>(bytes.size()));
  }
  std::vector<float> get(int64_t addr, DType dtype, size_t count) {
    std::vector<uint8_t> bytes(count * dtype_size(dtype));
    spm().read(addr, bytes.data(), static_cast<int64_t>(bytes.size()));
    std::vector<float> values(count);
    convert_elements(bytes.data(), dtype, values.data(), DType::F32, count);
    return values;
  }
  void run(std::vector<Instruction> stream) { sim.run(isa::Program{{std::move(stream)}}); }
};

std::vector<float> random_values(size_t count, uint64_t seed, float scale = 1.0f, float shift = 0.0f) {
  std::vector<float> v(count);
  for (size_t i = 0; i < count; ++i) v[i] = shift + scale * random_normal(seed, i);
  return v;
}

std::vector<float> rounded(std::vector<float> v, DType dtype) {
  for (float& x : v) x = round_to_dtype(x, dtype);
  return v;
}

void expect_bits_equal(const std::vector<float>& got, const std::vector<float>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_EQ(std::bit_cast<uint32_t>(got[i]), std::bit_cast<uint32_t>(want[i]))
        << "element " << i << ": " << got[i] << " vs " << want[i];
}

constexpr DType kFloatDtypes[] = {DType::F32, DType::BF16, DType::F16, DType::F8E4M3, DType::F8E5M2};

TEST(Vector, UnaryFunctionsRoundTheirF32ResultIntoTheDtype) {
  const int64_t rows = 7, cols = 19;
  const size_t n = rows * cols;
  // Exactly rounded in f32: bit-exact.
  std::map<UnaryFn, float (*)(float)> exact = {
      {UnaryFn::Relu, [](float x) { return x > 0 ? x : 0.0f; }},
      {UnaryFn::Neg, [](float x) { return -x; }},
      {UnaryFn::Sqrt, [](float x) { return std::sqrt(x); }},
      {UnaryFn::Recip, [](float x) { return 1.0f / x; }},
      {UnaryFn::Copy, [](float x) { return x; }}};
  for (DType dtype : kFloatDtypes) {
    for (auto [fn, f] : exact) {
      SCOPED_TRACE(fmt::format("{} fn {}", dtype_name(dtype), static_cast<int>(fn)));
      Bench b;
      std::vector<float> x = rounded(random_values(n, 1, 2.0f, fn == UnaryFn::Sqrt ? 5.0f : 0.0f), dtype);
      b.put(0x100, dtype, x);
      b.run({vunary(fn, spm(0x4000), spm(0x100), rows, cols, dtype)});
      std::vector<float> want(n);
      for (size_t i = 0; i < n; ++i) want[i] = round_to_dtype(f(x[i]), dtype);
      expect_bits_equal(b.get(0x4000, dtype, n), want);
    }
  }
  // exp, log and gelu (tanh form): within 2 f32 ulps before the rounding into the dtype, so
  // within one step of the dtype after it.
  std::map<UnaryFn, double (*)(double)> approx = {
      {UnaryFn::Exp, [](double x) { return std::exp(x); }},
      {UnaryFn::Log, [](double x) { return std::log(x); }},
      {UnaryFn::Gelu, [](double x) {
         return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
       }}};
  for (DType dtype : {DType::F32, DType::BF16}) {
    for (auto [fn, f] : approx) {
      Bench b;
      std::vector<float> x = rounded(random_values(n, 2, 1.5f, fn == UnaryFn::Log ? 6.0f : 0.0f), dtype);
      b.put(0x100, dtype, x);
      b.run({vunary(fn, spm(0x4000), spm(0x100), rows, cols, dtype)});
      std::vector<float> got = b.get(0x4000, dtype, n);
      double step = dtype == DType::F32 ? 0x1p-21 : 0x1p-7;  // relative, with margin
      for (size_t i = 0; i < n; ++i) {
        double want = f(x[i]);
        ASSERT_NEAR(got[i], want, step * std::fabs(want) + 1e-6) << "fn " << static_cast<int>(fn) << " x " << x[i];
      }
    }
  }
}

TEST(Vector, BinaryFunctionsWithEveryBroadcast) {
  const int64_t rows = 5, cols = 33;
  std::map<BinaryFn, float (*)(float, float)> fns = {
      {BinaryFn::Add, [](float a, float b) { return a + b; }},   {BinaryFn::Sub, [](float a, float b) { return a - b; }},
      {BinaryFn::Mul, [](float a, float b) { return a * b; }},   {BinaryFn::Div, [](float a, float b) { return a / b; }},
      {BinaryFn::Max, [](float a, float b) { return std::max(a, b); }},
      {BinaryFn::Min, [](float a, float b) { return std::min(a, b); }}};
  for (DType dtype : {DType::F32, DType::BF16, DType::F16, DType::F8E5M2}) {
    for (auto [fn, f] : fns) {
      for (Broadcast bc : {Broadcast::None, Broadcast::Row, Broadcast::Col, Broadcast::Scalar}) {
        SCOPED_TRACE(fmt::format("{} fn {} broadcast {}", dtype_name(dtype), static_cast<int>(fn), static_cast<int>(bc)));
        int64_t b_rows = bc == Broadcast::None || bc == Broadcast::Col ? rows : 1;
        int64_t b_cols = bc == Broadcast::None || bc == Broadcast::Row ? cols : 1;
        Bench bench;
        std::vector<float> a = rounded(random_values(rows * cols, 3), dtype);
        std::vector<float> b = rounded(random_values(static_cast<size_t>(b_rows * b_cols), 4, 1.0f, 3.0f), dtype);
        bench.put(0x100, dtype, a);
        bench.put(0x2000, dtype, b);
        bench.run({ins(Opcode::VBinary, {en(OperandKind::BinaryFn, fn), spm(0x4000), spm(0x100), spm(0x2000),
                                         imm(rows), imm(cols), dt(dtype), en(OperandKind::Broadcast, bc)})});
        std::vector<float> want(static_cast<size_t>(rows * cols));
        for (int64_t i = 0; i < rows; ++i)
          for (int64_t j = 0; j < cols; ++j) {
            float bv = b[static_cast<size_t>((b_rows == 1 ? 0 : i) * b_cols + (b_cols == 1 ? 0 : j))];
            want[static_cast<size_t>(i * cols + j)] = round_to_dtype(f(a[static_cast<size_t>(i * cols + j)], bv), dtype);
          }
        expect_bits_equal(bench.get(0x4000, dtype, want.size()), want);
      }
    }
  }
}

TEST(Vector, InPlaceBinaryReadsBeforeWriting) {
  Bench b;
  b.put(0x100, DType::F32, {1, 2, 3, 4});
  b.run({ins(Opcode::VBinary, {en(OperandKind::BinaryFn, BinaryFn::Add), spm(0x100), spm(0x100), spm(0x100), imm(2),
                               imm(2), dt(DType::F32), en(OperandKind::Broadcast, Broadcast::None)})});
  EXPECT_EQ(b.get(0x100, DType::F32, 4), (std::vector<float>{2, 4, 6, 8}));
}

TEST(Vector, MaxAndMinPropagateNaN) {
  Bench b;
  b.put(0x100, DType::F32, {NAN, 1, 2, -1});
  b.put(0x200, DType::F32, {0, NAN, 1, -2});
  for (BinaryFn fn : {BinaryFn::Max, BinaryFn::Min}) {
    b.run({ins(Opcode::VBinary, {en(OperandKind::BinaryFn, fn), spm(0x300), spm(0x100), spm(0x200), imm(1), imm(4),
                                 dt(DType::F32), en(OperandKind::Broadcast, Broadcast::None)})});
    std::vector<float> got = b.get(0x300, DType::F32, 4);
    EXPECT_TRUE(std::isnan(got[0]) && std::isnan(got[1]));
    EXPECT_EQ(got[2], fn == BinaryFn::Max ? 2.0f : 1.0f);
    EXPECT_EQ(got[3], fn == BinaryFn::Max ? -1.0f : -2.0f);
  }
}

TEST(Vector, ReduceSumsInIncreasingColumnOrder) {
  // Row 0: 2^24 then sixteen 1s: each 2^24 + 1 rounds back to 2^24 (tie to even), so the sum
  // stays 2^24; summed from the right (or exactly) it would be 2^24 + 16.
  std::vector<float> row0(17, 1.0f);
  row0[0] = 16777216.0f;
  std::vector<float> src = row0;
  std::vector<float> row1 = random_values(17, 5);
  src.insert(src.end(), row1.begin(), row1.end());
  Bench b;
  b.put(0x100, DType::F32, src);
  b.run({ins(Opcode::VReduce, {en(OperandKind::ReduceFn, ReduceFn::Sum), spm(0x1000), spm(0x100), imm(2), imm(17),
                               dt(DType::F32)}),
         ins(Opcode::VReduce, {en(OperandKind::ReduceFn, ReduceFn::Max), spm(0x1010), spm(0x100), imm(2), imm(17),
                               dt(DType::F32)})});
  float sum1 = row1[0];
  for (size_t j = 1; j < row1.size(); ++j) sum1 += row1[j];
  EXPECT_EQ(b.get(0x1000, DType::F32, 2), (std::vector<float>{16777216.0f, sum1}));
  EXPECT_EQ(b.get(0x1010, DType::F32, 2), (std::vector<float>{16777216.0f, *std::max_element(row1.begin(), row1.end())}));
}

TEST(Vector, ReduceOfABf16TileWritesF32) {
  Bench b;
  std::vector<float> x = rounded(random_values(3 * 40, 6), DType::BF16);
  b.put(0x100, DType::BF16, x);
  b.run({ins(Opcode::VReduce, {en(OperandKind::ReduceFn, ReduceFn::Sum), spm(0x1000), spm(0x100), imm(3), imm(40),
                               dt(DType::BF16)})});
  std::vector<float> want(3);
  for (int i = 0; i < 3; ++i) {
    float s = x[static_cast<size_t>(i * 40)];
    for (int j = 1; j < 40; ++j) s += x[static_cast<size_t>(i * 40 + j)];
    want[static_cast<size_t>(i)] = s;
  }
  expect_bits_equal(b.get(0x1000, DType::F32, 3), want);
}

Instruction vconvert(int64_t dst, DType dst_dtype, int64_t src, DType src_dtype, int64_t rows, int64_t cols,
                     isa::Rounding rounding, int seed_reg) {
  return ins(Opcode::VConvert, {spm(dst), dt(dst_dtype), spm(src), dt(src_dtype), imm(rows), imm(cols),
                                en(OperandKind::Rounding, rounding), reg(seed_reg)});
}

TEST(Vector, ConvertRoundsToNearestEvenAsBaseDefines) {
  std::vector<float> x = random_values(256, 7, 100.0f);
  x.insert(x.end(), {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 1e-40f, 65520.0f, 464.0f, 1.00390625f});
  for (DType dst : {DType::BF16, DType::F16, DType::F8E4M3, DType::F8E5M2, DType::I32}) {
    Bench b;
    b.put(0x100, DType::F32, x);
    b.run({vconvert(0x4000, dst, 0x100, DType::F32, 1, static_cast<int64_t>(x.size()), isa::Rounding::Rne, 0)});
    std::vector<uint8_t> got(x.size() * dtype_size(dst)), want(got.size());
    b.spm().read(0x4000, got.data(), static_cast<int64_t>(got.size()));
    for (size_t i = 0; i < x.size(); ++i) {
      uint8_t* w = want.data() + i * dtype_size(dst);
      if (dst == DType::BF16) std::memcpy(w, std::array<uint16_t, 1>{f32_to_bf16(x[i])}.data(), 2);
      if (dst == DType::F16) std::memcpy(w, std::array<uint16_t, 1>{f32_to_f16(x[i])}.data(), 2);
      if (dst == DType::F8E4M3) *w = f32_to_e4m3(x[i]);
      if (dst == DType::F8E5M2) *w = f32_to_e5m2(x[i]);
      if (dst == DType::I32) {
        int32_t v = std::isnan(x[i]) ? 0 : x[i] >= 2147483648.0f ? INT32_MAX : x[i] < -2147483648.0f ? INT32_MIN : static_cast<int32_t>(x[i]);
        std::memcpy(w, &v, 4);
      }
    }
    EXPECT_EQ(got, want) << dtype_name(dst);
  }
}

TEST(Vector, StochasticRoundingIsUnbiasedAndPicksANeighbour) {
  // x = 1 + 2^-9 lies a quarter of the way from bf16's 1 to 1 + 2^-7; 3.3 in e4m3 between 3.25
  // and 3.5 at 0.2 of the step; a subnormal-range value for f16.
  struct Case {
    DType dtype;
    float x, lower, upper;
  };
  for (Case c : {Case{DType::BF16, 1.001953125f, 1.0f, 1.0078125f}, Case{DType::F8E4M3, 3.3f, 3.25f, 3.5f},
                 Case{DType::F16, -3e-7f, -2.980232239e-07f, -3.576278687e-07f}, Case{DType::F8E5M2, 100.0f, 96.0f, 112.0f}}) {
    SCOPED_TRACE(dtype_name(c.dtype));
    const int64_t n = 20000;
    Bench b;
    b.put(0x100, DType::F32, std::vector<float>(n, c.x));
    b.run({li(3, 12345), vconvert(0x20000, c.dtype, 0x100, DType::F32, 100, n / 100, isa::Rounding::Stochastic, 3)});
    std::vector<float> got = b.get(0x20000, c.dtype, n);
    double p = (static_cast<double>(c.x) - c.lower) / (static_cast<double>(c.upper) - c.lower);
    int64_t ups = 0;
    double sum = 0;
    for (float v : got) {
      ASSERT_TRUE(v == c.lower || v == c.upper) << v;
      ups += v == c.upper;
      sum += v;
    }
    // Five standard errors of a binomial proportion.
    EXPECT_NEAR(static_cast<double>(ups) / n, p, 5 * std::sqrt(p * (1 - p) / n));
    EXPECT_NEAR(sum / n, c.x, 5 * std::sqrt(p * (1 - p) / n) * std::fabs(c.upper - c.lower));
  }
}

TEST(Vector, StochasticRoundingDependsOnlyOnSeedAndPosition) {
  std::vector<float> x = random_values(4096, 8);
  auto convert = [&](int64_t seed) {
    Bench b;
    b.put(0x100, DType::F32, x);
    b.run({li(5, seed), vconvert(0x8000, DType::BF16, 0x100, DType::F32, 64, 64, isa::Rounding::Stochastic, 5)});
    return b.get(0x8000, DType::BF16, x.size());
  };
  EXPECT_EQ(convert(1), convert(1));
  EXPECT_NE(convert(1), convert(2));
  // Representable values pass unchanged.
  std::vector<float> exact = rounded(x, DType::BF16);
  Bench b;
  b.put(0x100, DType::F32, exact);
  b.run({vconvert(0x8000, DType::BF16, 0x100, DType::F32, 64, 64, isa::Rounding::Stochastic, 0)});
  EXPECT_EQ(b.get(0x8000, DType::BF16, x.size()), exact);
}

TEST(Vector, TransposeEveryElementSize) {
  for (DType dtype : {DType::F8E4M3, DType::BF16, DType::F32, DType::I64}) {
    const int64_t rows = 37, cols = 70;
    auto size = static_cast<int64_t>(dtype_size(dtype));
    std::vector<uint8_t> src(static_cast<size_t>(rows * cols * size));
    for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<uint8_t>(random_bits(9, i));
    Bench b;
    b.spm().write(0x100, src.data(), static_cast<int64_t>(src.size()));
    b.run({ins(Opcode::VTranspose, {spm(0x10000), spm(0x100), imm(rows), imm(cols), dt(dtype)})});
    std::vector<uint8_t> got(src.size());
    b.spm().read(0x10000, got.data(), static_cast<int64_t>(got.size()));
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j)
        ASSERT_EQ(0, std::memcmp(got.data() + (j * rows + i) * size, src.data() + (i * cols + j) * size,
                                 static_cast<size_t>(size)));
  }
  Bench b;
  EXPECT_EQ(error_of([&] { b.run({ins(Opcode::VTranspose, {spm(0x100), spm(0x104), imm(4), imm(4), dt(DType::F32)})}); }),
            "core 0 vector, instruction 0 `vtranspose spm[0x100], spm[0x104], 4, 4, f32`: dst and src overlap");
}

TEST(Vector, GatherCopiesTableRowsAndRefusesIndicesOutsideTheTable) {
  const int64_t entries = 10, cols = 6, rows = 8;
  std::vector<float> table = random_values(entries * cols, 10);
  std::vector<int32_t> indices = {3, 0, 9, 3, 3, 7, 1, 9};
  Bench b;
  b.put(0x1000, DType::BF16, table);
  write(b.spm(), 0x100, indices);
  b.run({ins(Opcode::VGather, {spm(0x2000), spm(0x1000), spm(0x100), imm(rows), imm(cols), imm(entries), dt(DType::BF16)})});
  std::vector<float> got = b.get(0x2000, DType::BF16, rows * cols), want;
  for (int32_t index : indices)
    for (int64_t j = 0; j < cols; ++j) want.push_back(round_to_dtype(table[static_cast<size_t>(index * cols + j)], DType::BF16));
  EXPECT_EQ(got, want);

  write(b.spm(), 0x100 + 4 * 5, std::vector<int32_t>{10});
  EXPECT_EQ(error_of([&] {
              b.run({ins(Opcode::VGather, {spm(0x2000), spm(0x1000), spm(0x100), imm(rows), imm(cols), imm(entries),
                                           dt(DType::BF16)})});
            }),
            "core 0 vector, instruction 0 `vgather spm[0x2000], spm[0x1000], spm[0x100], 8, 6, 10, bf16`: "
            "index 10 at row 5 of indices is outside the table's entries [0, 10)");
}

TEST(Vector, ScatterAddAddsRowsInIndexOrderRoundingEachSum) {
  const int64_t entries = 4, cols = 3, rows = 6;
  std::vector<float> table = rounded(random_values(entries * cols, 11), DType::BF16);
  std::vector<float> src = rounded(random_values(rows * cols, 12, 0.01f), DType::BF16);
  std::vector<int32_t> indices = {2, 2, 0, 2, 3, 0};
  Bench b;
  b.put(0x1000, DType::BF16, table);
  b.put(0x2000, DType::BF16, src);
  write(b.spm(), 0x100, indices);
  b.run({ins(Opcode::VScatterAdd, {spm(0x1000), spm(0x100), spm(0x2000), imm(rows), imm(cols), imm(entries), dt(DType::BF16)})});
  std::vector<float> want = table;
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      float& t = want[static_cast<size_t>(indices[static_cast<size_t>(i)] * cols + j)];
      t = round_to_dtype(t + src[static_cast<size_t>(i * cols + j)], DType::BF16);
    }
  expect_bits_equal(b.get(0x1000, DType::BF16, want.size()), want);
}

TEST(Vector, FillRoundsTheValueIntoTheDtype) {
  Bench b;
  b.run({vfill(spm(0x100), 1.00390625f, 3, 5, DType::BF16), vfill(spm(0x200), -2.75f, 2, 2, DType::I32)});
  EXPECT_EQ(b.get(0x100, DType::BF16, 15), std::vector<float>(15, 1.0f));  // the tie rounds to even
  EXPECT_EQ(read<int32_t>(b.spm(), 0x200, 4), std::vector<int32_t>(4, -2));
  EXPECT_EQ(read<uint16_t>(b.spm(), 0x100 + 30, 1), std::vector<uint16_t>{0});  // nothing beyond the tile
}

// vrandom dst, seed, counter, rows, cols, dtype.
Instruction vrandom(int64_t dst, int seed_reg, int counter_reg, int64_t rows, int64_t cols, DType dtype) {
  return ins(isa::Opcode::VRandom, {spm(dst), reg(seed_reg), reg(counter_reg), imm(rows), imm(cols), dt(dtype)});
}

TEST(Vector, RandomDrawsBaseRandomAtConsecutiveCounters) {
  // Seeds and counters beyond 2^63 pass through the registers unchanged.
  for (uint64_t seed : {uint64_t{42}, uint64_t{0xFEDCBA9876543210}})
    for (DType dtype : {DType::F32, DType::BF16}) {
      const uint64_t counter = 0x8000000000000123;
      Bench b;
      b.run({li(2, static_cast<int64_t>(seed)), li(3, static_cast<int64_t>(counter)),
             vrandom(0x100, 2, 3, 7, 33, dtype)});
      std::vector<float> want(7 * 33);
      for (size_t e = 0; e < want.size(); ++e) want[e] = random_uniform(seed, counter + e);
      expect_bits_equal(b.get(0x100, dtype, want.size()), rounded(want, dtype));
    }
  Bench b;
  EXPECT_EQ(error_of([&] { b.run({vrandom(0, 0, 1, 1, 4, DType::I32)}); }),
            "core 0 vector, instruction 0 `vrandom spm[0x0], 0, 0, 1, 4, i32`: dtype i32 is not a float dtype");
}

TEST(Vector, FloatOnlyInstructionsRefuseIntegerTiles) {
  Bench b;
  EXPECT_EQ(error_of([&] { b.run({vunary(UnaryFn::Relu, spm(0), spm(0x100), 1, 4, DType::I32)}); }),
            "core 0 vector, instruction 0 `vunary relu, spm[0x0], spm[0x100], 1, 4, i32`: dtype i32 is not a float dtype");
}

}  // namespace
}  // namespace tessera::sim::testing
