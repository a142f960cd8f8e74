// The chip's multi-tensor kernels beyond the kernel harness: one launch for a whole list,
// lists whose tensors span many tiles and every core, against an exact sum and against the
// per-tensor kernel, f32 and bf16 in one list, and the program's treatment of empty segments.
#include <cmath>

#include "backends/chip/chip_backend.h"
#include "compiler/sum_squares_program.h"
#include "isa/disassembler.h"
#include "kernel_harness.h"

namespace tessera::test {
namespace {

ChipBackend& chip(const std::string& preset = "t1") { return *chip_backend("chip:" + preset); }

// Gradient-like sizes: a large matrix (many tiles on every core), odd lengths, a single element.
const std::vector<int64_t> kSizes = {300001, 8193, 1, 4097, 100000, 768, 3};

long double exact_sum_squares(const std::vector<std::vector<float>>& lists) {
  long double sum = 0;
  for (const auto& values : lists)
    for (float v : values) sum += static_cast<long double>(v) * v;
  return sum;
}

TEST(ChipForeachTest, ClaimsTheMultiTensorKernelsInF32AndBf16) {
  for (Kernel k : {Kernel::SumSquaresMany, Kernel::ScaleMany}) {
    EXPECT_TRUE(chip().supports(k, DType::F32)) << kernel_name(k);
    EXPECT_TRUE(chip().supports(k, DType::BF16)) << kernel_name(k);
    EXPECT_FALSE(chip().supports(k, DType::F16)) << kernel_name(k);
  }
}

TEST(ChipForeachTest, SumSquaresOfManyTensorsOverEveryCoreIsOneCompensatedLaunch) {
  for (const char* preset : {"t1", "h100"})
    for (DType dtype : {DType::F32, DType::BF16}) {
      std::string what = std::string(preset) + " " + std::string(dtype_name(dtype));
      Workspace ws(chip(preset));
      std::vector<std::vector<float>> values;
      std::vector<View> xs;
      for (size_t i = 0; i < kSizes.size(); ++i) {
        // Magnitudes 1e-3 to 1e1 from tensor to tensor, as gradients of different layers.
        float scale = std::pow(10.0f, static_cast<float>(i % 5) - 3.0f);
        values.push_back(rounded(random_values(kSizes[i], 60 + i, -scale, scale), dtype));
        xs.push_back(ws.input(dtype, {kSizes[i]}, values.back()));
      }
      int64_t before = chip(preset).totals().launches;
      double many = chip(preset).sum_squares_many(xs);
      EXPECT_EQ(chip(preset).totals().launches - before, 1) << what;
      auto exact = static_cast<double>(exact_sum_squares(values));
      EXPECT_NEAR(many, exact, 1e-12 * exact) << what;
      double singles = 0;
      for (const View& x : xs) singles += chip(preset).sum_squares(x);
      EXPECT_NEAR(many, singles, 1e-12 * singles) << what;
      ws.expect_intact("sum_squares_many " + what);
    }
}

TEST(ChipForeachTest, ScaleManyIsOneLaunchPerDType) {
  Workspace ws(chip());
  std::vector<View> xs, outs;
  for (size_t i = 0; i < kSizes.size(); ++i) {
    DType dtype = i % 3 == 2 ? DType::BF16 : DType::F32;
    xs.push_back(ws.input(dtype, {kSizes[i]}, random_values(kSizes[i], 70 + i)));
    outs.push_back(ws.output(dtype, {kSizes[i]}));
  }
  int64_t before = chip().totals().launches;
  chip().scale_many(xs, outs, 0.125f);
  EXPECT_EQ(chip().totals().launches - before, 2);
  for (size_t i = 0; i < xs.size(); ++i) {
    std::vector<float> x = ws.read(xs[i]), out = ws.read(outs[i]);
    for (float& v : x) v *= 0.125f;  // exact: a power of two
    EXPECT_EQ(out, x) << "tensor " << i;
  }
  ws.expect_intact("scale_many f32 + bf16");
}

TEST(ChipForeachTest, EmptySegmentsLeaveTheProgramAsForTheOthers) {
  const arch::ChipSpec& spec = chip().chip();
  std::vector<compiler::SumSquaresSegment> one = {{0, DType::F32, 5000}};
  std::vector<compiler::SumSquaresSegment> padded = {{4096, DType::BF16, 0}, one[0], {8192, DType::F32, 0}};
  isa::Program a = compiler::sum_squares_program(spec, one, 1 << 20, 2 << 20);
  isa::Program b = compiler::sum_squares_program(spec, padded, 1 << 20, 2 << 20);
  EXPECT_EQ(isa::disassemble(a), isa::disassemble(b));
  // 5000 elements on 32 cores: tiles of 256 lanes, 20 of them, one per core on 20 cores.
  EXPECT_EQ(a.cores.size(), 20u);
}

}  // namespace
}  // namespace tessera::test
