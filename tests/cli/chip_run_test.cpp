// `tessera train --device chip:NAME`: a model too large for the chip's HBM stops with the
// device's out-of-memory line; a run that fits ends with the performance report, and --trace
// writes a Chrome trace of its last step whose kernel slices add up to the reported step time.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "base/atomic_file.h"
#include "common/run_tessera.h"

namespace {

namespace fs = std::filesystem;

using tessera::testing::CommandResult;
using tessera::testing::run_tessera;

TEST(ChipRun, AModelTooLargeForTheHbmStopsWithTheDevicesOutOfMemoryLine) {
  CommandResult r = run_tessera(
      "train --device chip:t1 --set hbm.capacity=64MiB --model gpt2-124m --dataset kjv --steps 1 --quiet");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  std::regex line(R"(tessera: error: device 'chip:t1': out of memory: allocating [0-9.]+ [kMG]B with [0-9.]+ MB )"
                  R"(of 67\.11 MB in use\n)");
  EXPECT_TRUE(std::regex_match(r.output, line)) << r.output;
}

TEST(ChipRun, SetNeedsAChipDevice) {
  CommandResult r = run_tessera("train --device cpu --set hbm.capacity=64MiB --steps 1 --quiet");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("--set: device 'cpu' is no chip preset"), std::string::npos) << r.output;
}

TEST(ChipRun, TheReportAndTheTraceOfTheLastStepAgree) {
  std::string dir = std::string(TESSERA_BINARY_DIR) + "/test-tmp/chip-run";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string trace_path = dir + "/step.json";
  CommandResult r = run_tessera("train --device chip:t1 --model gpt-mini --dataset kjv --batch 2 --seq 32 --steps 2 "
                                "--eval-batches 1 --quiet --trace " + trace_path);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* part : {"simulated on chip:t1:", "tokens/s (64 tokens per step)", "MFU", "an f32 run",
                           "utilisation     DMA", "compute-bound", "HBM traffic", "top kernels", "matmul"})
    EXPECT_NE(r.output.find(part), std::string::npos) << part << " in\n" << r.output;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.output, m, std::regex(R"(step time +([0-9.]+) ms)"))) << r.output;
  double step_ms = std::stod(m[1]);
  ASSERT_TRUE(std::regex_search(r.output, m, std::regex(R"(trace of one step \(([0-9]+) launches\))"))) << r.output;
  int64_t launches = std::stoll(m[1]);

  nlohmann::json trace = nlohmann::json::parse(tessera::read_file_bytes(trace_path));
  double kernels_us = 0, previous_end_us = 0;
  int64_t slices = 0, engine_slices = 0;
  std::set<std::string> names;
  for (const nlohmann::json& e : trace.at("traceEvents")) {
    if (e.at("ph") != "X") continue;
    if (e.at("pid") != 0) {
      ++engine_slices;
      continue;
    }
    if (e.at("tid") != 0) continue;  // copies
    ++slices;
    names.insert(e.at("name").get<std::string>());
    double ts = e.at("ts").get<double>(), dur = e.at("dur").get<double>();
    EXPECT_GE(ts, previous_end_us - 1e-6) << "launches overlap";
    previous_end_us = ts + dur;
    kernels_us += dur;
  }
  EXPECT_EQ(slices, launches);
  EXPECT_GT(engine_slices, slices);
  EXPECT_TRUE(names.count("matmul") && names.count("adamw_many") && names.count("cross_entropy")) << trace.dump(1);
  EXPECT_NEAR(kernels_us / 1e3, step_ms, 0.0015);  // the step time is printed to 3 decimals
}

}  // namespace
