// mma against an element-by-element reference: products added in increasing k with one
// rounding per addition (a fused multiply-add per step), for every matrix input dtype, both
// modes and tile sizes that are not multiples of the kernel's blocks.
#include <omp.h>

#include <cmath>

#include "base/random.h"
#include "sim/mma_kernel.h"
#include "sim_test_util.h"

namespace tessera::sim::testing {
namespace {

// `count` random values of `dtype` (normal, scaled), as raw bytes.
std::vector<uint8_t> random_tile(DType dtype, int64_t count, uint64_t seed, float scale = 1.0f) {
  std::vector<float> values(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) values[static_cast<size_t>(i)] = scale * random_normal(seed, static_cast<uint64_t>(i));
  std::vector<uint8_t> bytes(static_cast<size_t>(count) * dtype_size(dtype));
  convert_elements(values.data(), DType::F32, bytes.data(), dtype, values.size());
  return bytes;
}

float element(const std::vector<uint8_t>& tile, DType dtype, int64_t i) {
  const uint8_t* p = tile.data() + i * static_cast<int64_t>(dtype_size(dtype));
  switch (dtype) {
    case DType::BF16: return bf16_to_f32(static_cast<uint16_t>(p[0] | p[1] << 8));
    case DType::F16: return f16_to_f32(static_cast<uint16_t>(p[0] | p[1] << 8));
    case DType::F8E4M3: return e4m3_to_f32(p[0]);
    case DType::F8E5M2: return e5m2_to_f32(p[0]);
    default: ADD_FAILURE() << "not a matrix dtype";
  }
  return 0;
}

// acc[i][j] += a[i][p] * b[p][j], p increasing, one rounding per step.
std::vector<float> reference(const std::vector<float>& acc0, const std::vector<uint8_t>& a, const std::vector<uint8_t>& b,
                             DType dtype, int64_t m, int64_t n, int64_t k, bool accumulate) {
  std::vector<float> acc(static_cast<size_t>(m * n));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      float sum = accumulate ? acc0[static_cast<size_t>(i * n + j)] : 0.0f;
      for (int64_t p = 0; p < k; ++p) sum = std::fma(element(a, dtype, i * k + p), element(b, dtype, p * n + j), sum);
      acc[static_cast<size_t>(i * n + j)] = sum;
    }
  return acc;
}

struct Shape {
  int64_t m, n, k;
};

TEST(Mma, KernelMatchesTheReferenceBitForBitForEveryDtypeAndShape) {
  for (DType dtype : {DType::BF16, DType::F16, DType::F8E4M3, DType::F8E5M2}) {
    for (Shape s : {Shape{1, 1, 1}, Shape{8, 48, 16}, Shape{13, 50, 37}, Shape{33, 97, 300}, Shape{64, 64, 64}}) {
      for (bool accumulate : {false, true}) {
        SCOPED_TRACE(fmt::format("{} {}x{}x{} accumulate={}", dtype_name(dtype), s.m, s.n, s.k, accumulate));
        auto a = random_tile(dtype, s.m * s.k, 1);
        auto b = random_tile(dtype, s.k * s.n, 2);
        std::vector<float> acc0(static_cast<size_t>(s.m * s.n));
        for (size_t i = 0; i < acc0.size(); ++i) acc0[i] = 4.0f * random_normal(3, i);
        std::vector<float> acc = acc0;
        mma_tile(acc.data(), a.data(), b.data(), dtype, s.m, s.n, s.k, accumulate);
        std::vector<float> expected = reference(acc0, a, b, dtype, s.m, s.n, s.k, accumulate);
        for (size_t i = 0; i < acc.size(); ++i)
          ASSERT_EQ(std::bit_cast<uint32_t>(acc[i]), std::bit_cast<uint32_t>(expected[i])) << "element " << i;
      }
    }
  }
}

// The kernel's blocks (up to 6 rows by 4 vectors of 16 columns, masked at the edges, and in
// parallel above 2^20 multiply-adds) against the reference on random shapes around them.
TEST(Mma, KernelMatchesTheReferenceOnRandomShapes) {
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    auto below = [&, counter = uint64_t{0}](int64_t n) mutable {
      return 1 + static_cast<int64_t>(random_bits(seed, counter++) % static_cast<uint64_t>(n));
    };
    DType dtype = seed % 3 == 0 ? DType::F8E4M3 : DType::BF16;
    bool large = seed % 8 == 0;
    int64_t m = below(large ? 150 : 40), n = below(large ? 150 : 140), k = below(large ? 120 : 70);
    bool accumulate = seed % 2 == 0;
    SCOPED_TRACE(fmt::format("{} {}x{}x{} accumulate={}", dtype_name(dtype), m, n, k, accumulate));
    auto a = random_tile(dtype, m * k, seed * 3), b = random_tile(dtype, k * n, seed * 3 + 1);
    std::vector<float> acc0(static_cast<size_t>(m * n));
    for (size_t i = 0; i < acc0.size(); ++i) acc0[i] = random_normal(seed * 3 + 2, i);
    std::vector<float> acc = acc0;
    mma_tile(acc.data(), a.data(), b.data(), dtype, m, n, k, accumulate);
    std::vector<float> expected = reference(acc0, a, b, dtype, m, n, k, accumulate);
    for (size_t i = 0; i < acc.size(); ++i)
      ASSERT_EQ(std::bit_cast<uint32_t>(acc[i]), std::bit_cast<uint32_t>(expected[i])) << "element " << i;
  }
}

TEST(Mma, SumsInIncreasingKWithARoundingAfterEveryAddition) {
  // Products 2^24, 1, -2^24: in order, 2^24 + 1 rounds (tie to even) to 2^24 and the sum ends
  // at 0; any other order, or an exact sum, gives 1.
  std::vector<uint16_t> a = {f32_to_bf16(1.0f), f32_to_bf16(1.0f), f32_to_bf16(1.0f)};
  std::vector<uint16_t> b = {f32_to_bf16(16777216.0f), f32_to_bf16(1.0f), f32_to_bf16(-16777216.0f)};
  float acc = 99.0f;
  mma_tile(&acc, a.data(), b.data(), DType::BF16, 1, 1, 3, false);
  EXPECT_EQ(acc, 0.0f);
  // Accumulate starts at acc: 1 + 2^24 -> 2^24 + 1 is a tie, 2^24; then +1 -> 2^24; -2^24 -> 0.
  acc = 1.0f;
  mma_tile(&acc, a.data(), b.data(), DType::BF16, 1, 1, 3, true);
  EXPECT_EQ(acc, 0.0f);
}

TEST(Mma, ResultsDoNotDependOnTheThreadCount) {
  int64_t m = 70, n = 130, k = 257;
  auto a = random_tile(DType::BF16, m * k, 4), b = random_tile(DType::BF16, k * n, 5);
  std::vector<float> one(static_cast<size_t>(m * n)), many(one.size());
  int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  mma_tile(one.data(), a.data(), b.data(), DType::BF16, m, n, k, false);
  omp_set_num_threads(3);
  mma_tile(many.data(), a.data(), b.data(), DType::BF16, m, n, k, false);
  omp_set_num_threads(threads);
  EXPECT_EQ(0, std::memcmp(one.data(), many.data(), one.size() * sizeof(float)));
}

TEST(Mma, InstructionReadsItsTilesFromTheScratchpad) {
  arch::ChipSpec chip = small_t1(1);
  Simulator sim(chip);
  int64_t m = 20, n = 30, k = 40;
  auto a = random_tile(DType::F16, m * k, 6), b = random_tile(DType::F16, k * n, 7);
  Memory& spm_memory = sim.memory().spm(0);
  spm_memory.write(0x1000, a.data(), static_cast<int64_t>(a.size()));
  spm_memory.write(0x8000, b.data(), static_cast<int64_t>(b.size()));
  std::vector<float> acc0(static_cast<size_t>(m * n), 0.5f);
  write(spm_memory, 0x10000, acc0);
  isa::Program program{{{li(1, 0x10000), mma(spm(0, 1), spm(0x1000), spm(0x8000), m, n, k, DType::F16, isa::AccMode::Accumulate)}}};
  SimResult result = sim.run(program);
  EXPECT_EQ(result.instructions[static_cast<size_t>(isa::Engine::Matrix)], 1);
  EXPECT_EQ(result.instructions[static_cast<size_t>(isa::Engine::Scalar)], 1);
  std::vector<float> expected = reference(acc0, a, b, DType::F16, m, n, k, true);
  EXPECT_EQ(read<float>(spm_memory, 0x10000, expected.size()), expected);
}

TEST(Mma, FaultsNameTheOperandAndTheBadAddress) {
  arch::ChipSpec chip = small_t1(1);
  Simulator sim(chip);
  auto run = [&](Instruction inst) { return error_of([&] { sim.run(isa::Program{{{inst}}}); }); };
  EXPECT_EQ(run(mma(spm(0), spm(0x3ff00), spm(0x1000), 16, 16, 16, DType::BF16, isa::AccMode::Overwrite)),
            "core 0 matrix, instruction 0 `mma spm[0x0], spm[0x3ff00], spm[0x1000], 16, 16, 16, bf16, overwrite`: "
            "a: spm[0x3ff00, 0x40100) is outside the 262144-byte scratchpad");
  EXPECT_EQ(run(mma(spm(2), spm(0x1000), spm(0x2000), 4, 4, 4, DType::BF16, isa::AccMode::Overwrite)),
            "core 0 matrix, instruction 0 `mma spm[0x2], spm[0x1000], spm[0x2000], 4, 4, 4, bf16, overwrite`: "
            "acc: spm[0x2] is not aligned to the 4-byte f32 elements");
  EXPECT_EQ(run(mma(spm(0), spm(0x20), spm(0x2000), 4, 4, 4, DType::BF16, isa::AccMode::Overwrite)),
            "core 0 matrix, instruction 0 `mma spm[0x0], spm[0x20], spm[0x2000], 4, 4, 4, bf16, overwrite`: "
            "acc and a overlap");
  EXPECT_EQ(run(mma(hbm(0), spm(0x1000), spm(0x2000), 4, 4, 4, DType::F32, isa::AccMode::Overwrite)),
            "core 0 matrix, instruction 0 `mma hbm[0x0], spm[0x1000], spm[0x2000], 4, 4, 4, f32, overwrite`: "
            "dtype f32 is not a matrix input dtype (bf16, f16, f8e4m3, f8e5m2)");
  EXPECT_EQ(run(mma(hbm(0), spm(0x1000), spm(0x2000), 4, 4, 4, DType::BF16, isa::AccMode::Overwrite)),
            "core 0 matrix, instruction 0 `mma hbm[0x0], spm[0x1000], spm[0x2000], 4, 4, 4, bf16, overwrite`: "
            "acc is in hbm; the operand must be in spm");
  EXPECT_EQ(run(mma(spm(0), spm(0x1000), spm(0x2000), 0, 4, 4, DType::BF16, isa::AccMode::Overwrite)),
            "core 0 matrix, instruction 0 `mma spm[0x0], spm[0x1000], spm[0x2000], 0, 4, 4, bf16, overwrite`: "
            "m = 0 is outside [1, 1099511627776]");
}

TEST(Mma, ChipWithoutFp8RefusesFp8Inputs) {
  arch::ChipSpec chip = small_t1(1);
  chip.matrix.dtypes = {arch::MatrixDtype::bf16, arch::MatrixDtype::fp16};
  Simulator sim(chip);
  std::string message = error_of([&] {
    sim.run(isa::Program{{{mma(spm(0), spm(0x1000), spm(0x2000), 4, 4, 4, DType::F8E4M3, isa::AccMode::Overwrite)}}});
  });
  EXPECT_NE(message.find("chip t1 has no f8e4m3 matrix inputs (matrix.dtypes: bf16, fp16)"), std::string::npos)
      << message;
}

}  // namespace
}  // namespace tessera::sim::testing
