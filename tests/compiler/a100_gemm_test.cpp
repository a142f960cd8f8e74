// The tensor-core model against measured A100 GEMM times (bench/data/a100_gemm.csv, fp16,
// LLMCompass): the compiler's GEMM on the a100 preset plus its GEMM-call overhead predicts
// every shape with N and K >= 1024 within 15 %. The largest shapes (N = K >= 12288) take a minute to simulate and
// run in bench/a100_gemm_bench.cpp instead.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "compiler/gemm_timing.h"
#include "sim/timing_test_util.h"

namespace tessera::sim {
namespace {

using namespace testing;

// Seconds of an fp16 GEMM call on `chip`: the program plus the GEMM-call overhead.
double predicted_seconds(const arch::ChipSpec& chip, int64_t m, int64_t n, int64_t k) {
  compiler::GemmKernel kernel;
  kernel.m = m, kernel.n = n, kernel.k = k;
  kernel.a_dtype = kernel.b_dtype = kernel.out_dtype = DType::F16;
  return compiler::time_gemm(kernel, chip).seconds + chip.gemm_overhead_s();
}

struct Measured {
  int64_t m, n, k;
  double seconds;
};

std::vector<Measured> read_measurements() {
  std::ifstream in(TESSERA_SOURCE_DIR "/bench/data/a100_gemm.csv");
  std::vector<Measured> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    Measured r{};
    char unit[8] = {};
    EXPECT_EQ(std::sscanf(line.c_str(), "%ld, %ld, %ld, %lf%2s", &r.m, &r.n, &r.k, &r.seconds, unit), 5) << line;
    r.seconds *= std::string(unit) == "ms" ? 1e-3 : 1e-6;
    rows.push_back(r);
  }
  return rows;
}

TEST(A100Gemm, PredictedWithin15PercentForNAndKFrom1024) {
  arch::ChipSpec a100 = chip("a100");
  std::vector<Measured> rows = read_measurements();
  ASSERT_EQ(rows.size(), 11u);
  int checked = 0;
  for (const Measured& r : rows) {
    if (r.n < 1024 || r.k < 1024 || r.n > 8192) continue;
    double predicted = predicted_seconds(a100, r.m, r.n, r.k);
    double error = predicted / r.seconds - 1;
    EXPECT_LT(std::abs(error), 0.15) << r.m << "x" << r.n << "x" << r.k << ": predicted " << predicted * 1e6
                                     << " us, measured " << r.seconds * 1e6 << " us";
    ++checked;
  }
  EXPECT_EQ(checked, 4);
}

TEST(A100Gemm, SmallGemmsCostAtLeastTheLaunch) {
  arch::ChipSpec a100 = chip("a100");
  double seconds = predicted_seconds(a100, 8192, 64, 64);
  EXPECT_GT(seconds, a100.gemm_overhead_s());
  EXPECT_LT(seconds, 1.5 * a100.gemm_overhead_s());
}

}  // namespace
}  // namespace tessera::sim
