// Comparing chips on a training step: the gpt-mini step's cost on t1 and the h20 (t1 is
// faster; the parts add up to the total), and `tessera compare` as a program — its table, one
// GEMM per chip (--gemm), a row for a chip whose HBM is too small for the step, and its errors for a missing
// --timing-only, an unknown chip, an unsupported precision and a model that fits no chip's memory.
#include <gtest/gtest.h>

#include "common/run_tessera.h"

#include <array>
#include <regex>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/wait.h>

#include "arch/chip_loader.h"
#include "perf/step_cost.h"
#include "record_step.h"

namespace tessera::test {
namespace {

TEST(CompareChips, GptMiniStepIsFasterOnT1ThanOnTheH20) {
  std::vector<KernelCall> log = record_gpt_step("gpt-mini", 4, 256);
  std::map<std::string, perf::StepCost> costs;
  for (const char* name : {"t1", "h20"}) {
    perf::KernelCostModel model(arch::load_chip(name));
    perf::StepCost c = perf::cost_step(log, model);
    EXPECT_EQ(c.kernels, static_cast<int64_t>(log.size()));
    EXPECT_NEAR(c.compute_bound_s + c.memory_bound_s + c.launch_s, c.seconds, 1e-12 * c.seconds);
    EXPECT_GE(c.launch_s, static_cast<double>(log.size()) * model.chip().launch_overhead_s * (1 - 1e-12));
    EXPECT_LE(c.launch_s, static_cast<double>(log.size()) * model.chip().gemm_overhead_s() * (1 + 1e-12));
    double grouped = 0;
    for (const perf::KernelGroup& g : c.groups) grouped += g.seconds;
    EXPECT_NEAR(grouped, c.seconds, 1e-9 * c.seconds);
    EXPECT_GE(c.groups.front().seconds, c.groups.back().seconds);
    costs[name] = c;
  }
  EXPECT_LT(costs["t1"].seconds, costs["h20"].seconds);
}

using tessera::testing::CommandResult;
using tessera::testing::run_tessera;

void expect_error(const CommandResult& r, const std::string& expected) {
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(r.output, "tessera: error: " + expected + "\n");
}

// The step time in ms of `chip`'s row in the table.
double step_ms(const std::string& output, const std::string& chip) {
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string name;
    double ms = 0;
    if (fields >> name >> ms && name == chip) return ms;
  }
  ADD_FAILURE() << "no row for " << chip << " in:\n" << output;
  return 0;
}

TEST(CompareCommand, PrintsATableWhereT1BeatsTheH20) {
  CommandResult r = run_tessera("compare --model gpt-mini --batch 4 --seq 256 --chips t1,h20 --timing-only");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("tokens/s"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("vs h20"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("top 5 kernels by time"), std::string::npos) << r.output;
  double t1 = step_ms(r.output, "t1"), h20 = step_ms(r.output, "h20");
  EXPECT_GT(t1, 0);
  EXPECT_LT(t1, h20);
}

TEST(CompareCommand, ImageModelsReportImagesPerSecond) {
  CommandResult r = run_tessera("compare --model cnn --batch 64 --chips t1 --timing-only");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("images/s"), std::string::npos) << r.output;
  EXPECT_GT(step_ms(r.output, "t1"), 0);
}

TEST(CompareCommand, NumericsNeedTheChipBackend) {
  expect_error(run_tessera("compare --model gpt-mini --chips t1"),
               "compare: running the step's numerics on a chip needs the chip backend, which is not built yet; use "
               "--timing-only for the timing model's estimate");
}

TEST(CompareCommand, UnknownChipListsThePresets) {
  CommandResult r = run_tessera("compare --model gpt-mini --chips t1,t9 --timing-only");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.output.rfind("tessera: error: unknown chip 't9'; presets: a100, ", 0), 0u) << r.output;
}

TEST(CompareCommand, OnlyBf16PrecisionIsSupported) {
  expect_error(run_tessera("compare --model gpt-mini --chips t1 --timing-only --precision f32"),
               "compare --precision 'f32' is not supported: the chips' matrix engines take 16-bit inputs; use bf16");
}

// A copy of t1 with `capacity` of HBM, written under the build folder; returns its path.
std::string small_t1(const std::string& capacity) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(TESSERA_BINARY_DIR) / "test-tmp" / "compare-small-chip";
  fs::create_directories(dir);
  std::ifstream t1(fs::path(TESSERA_SOURCE_DIR) / "configs" / "chips" / "t1.yaml");
  std::stringstream yaml;
  yaml << t1.rdbuf();
  std::string text = yaml.str();
  text.replace(text.find("name: t1"), 8, "name: t1-small");
  text.replace(text.find("capacity: 96GB"), 14, "capacity: " + capacity);
  fs::path path = dir / "t1-small.yaml";
  std::ofstream(path) << text;
  return path.string();
}

TEST(CompareCommand, AChipTooSmallForTheStepGetsARowSayingWhatItNeeds) {
  // gpt2-124m: 0.50 GB of f32 parameters, as much again of gradients, twice as much of AdamW state.
  CommandResult r =
      run_tessera("compare --model gpt2-124m --batch 1 --seq 64 --timing-only --chips t1," + small_t1("1GB"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_GT(step_ms(r.output, "t1"), 0);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.output, m, std::regex("\nt1-small +needs (\\d+\\.\\d) GB of HBM, t1-small has 1\\.0 GB\n")))
      << r.output;
  // At least the 2.0 GB of parameters, gradients and AdamW state (the activations of batch 1 x 64
  // are a few MB, so the total may round to 2.0).
  EXPECT_GE(std::stod(m[1]), 2.0);
  EXPECT_LT(std::stod(m[1]), 3.0);
  EXPECT_EQ(r.output.find("t1-small:"), std::string::npos) << r.output;  // no kernels listed for it
}

TEST(CompareCommand, NoChipLargeEnoughIsAnErrorSayingWhatItNeeds) {
  CommandResult r = run_tessera("compare --model gpt2-124m --batch 1 --seq 64 --timing-only --chips " + small_t1("1GB"));
  EXPECT_EQ(r.exit_code, 1);
  std::smatch m;
  ASSERT_TRUE(std::regex_match(
      r.output, m,
      std::regex("tessera: error: compare: gpt2-124m at batch 1 x 64 tokens needs (\\d+\\.\\d) GB of HBM \\(parameters "
                 "0\\.5 \\+ gradients 0\\.5 \\+ AdamW state 1\\.0 \\+ peak activations \\d+\\.\\d\\); no chip has that "
                 "much: t1-small has 1\\.0 GB\n")))
      << r.output;
  EXPECT_GE(std::stod(m[1]), 2.0);
}

TEST(CompareCommand, GemmOptionTimesOneGemmPerChip) {
  CommandResult r = run_tessera("compare --gemm 4096x4096x4096 --chips t1,h20 --timing-only");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  double t1_us = step_ms(r.output, "t1"), h20_us = step_ms(r.output, "h20");
  // 2 x 4096^3 FLOPs at each chip's bf16 peak (419.4 and 147.7 TFLOPS) is a lower bound.
  EXPECT_GT(t1_us, 2 * 4096.0 * 4096 * 4096 / 419.4e12 * 1e6);
  EXPECT_GT(h20_us, 2 * 4096.0 * 4096 * 4096 / 147.8e12 * 1e6);
  EXPECT_LT(t1_us, h20_us);
  expect_error(run_tessera("compare --gemm 4096x4096 --chips t1 --timing-only"),
               "--gemm '4096x4096': expected MxNxK with positive sizes, e.g. 4096x4096x4096");
}

}  // namespace
}  // namespace tessera::test
