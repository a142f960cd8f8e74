// The run report's figures agree with one another and with the launches they come from, and
// the timeline trace is valid JSON with one slice per launch, placed one after another.
#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "arch/chip_figures.h"
#include "runtime/launch.h"
#include "runtime/run_report.h"
#include "runtime/timeline_trace.h"
#include "runtime_test_util.h"

namespace tessera::runtime::test {
namespace {

// Steps of two GEMMs each (one of 128, one of 256); step 1 adds a third, as a warm-up would.
std::vector<StepWork> gemm_steps(Device& device, int steps) {
  isa::Program small = gemm_on(device, 128), large = gemm_on(device, 256);
  StepRecorder recorder(device);
  for (int step = 0; step < steps; ++step) {
    recorder.begin_step();
    if (step == 0) launch(large, device.default_stream(), "warmup");
    launch(small, device.default_stream(), "gemm128");
    launch(large, device.default_stream(), "gemm256");
    recorder.end_step(1000);
  }
  return recorder.steps();
}

TEST(RunReportTest, FiguresAreConsistent) {
  Device device("chip:t1", small_t1("64MiB"));
  std::vector<StepWork> steps = gemm_steps(device, 3);
  RunReport r = make_run_report(device, steps, "tokens", true);
  EXPECT_TRUE(r.first_step_excluded);
  EXPECT_EQ(r.steps, 2);
  EXPECT_DOUBLE_EQ(r.step_seconds, steps[1].seconds);
  EXPECT_GT(r.first_step_seconds, r.step_seconds);
  EXPECT_DOUBLE_EQ(r.items_per_second, 1000 / r.step_seconds);
  EXPECT_DOUBLE_EQ(r.matrix_flops, 2.0 * (128.0 * 128 * 128 + 256.0 * 256 * 256));
  EXPECT_DOUBLE_EQ(r.peak_flops_per_s, arch::chip_figures(device.chip()).bf16_flops_per_s);
  EXPECT_DOUBLE_EQ(r.mfu, r.matrix_flops / (r.step_seconds * r.peak_flops_per_s));
  for (double u : {r.dma_utilization, r.matrix_utilization, r.vector_utilization}) {
    EXPECT_GE(u, 0);
    EXPECT_LE(u, 1);
  }
  EXPECT_GT(r.matrix_utilization, 0);
  EXPECT_NEAR(r.compute_seconds + r.memory_seconds + r.waiting_seconds + r.overhead_seconds + r.copy_seconds +
                  r.idle_seconds,
              r.step_seconds, 1e-12);
  EXPECT_DOUBLE_EQ(r.overhead_seconds, 2 * device.chip().launch_overhead_s);
  EXPECT_GT(r.compute_seconds, 0);
  EXPECT_GT(r.hbm_bytes, 0);
  ASSERT_EQ(r.kernels.size(), 2u);  // the warm-up kernel ran in the excluded step only
  EXPECT_EQ(r.kernels[0].name, "gemm256");  // by time
  double seconds = 0, share = 0;
  for (const KernelShare& k : r.kernels) {
    EXPECT_DOUBLE_EQ(k.calls, 1);
    seconds += k.seconds, share += k.share;
  }
  EXPECT_NEAR(seconds, r.step_seconds, 1e-12);
  EXPECT_NEAR(share, 1, 1e-9);
  std::string text = format_run_report(r);
  for (const char* part : {"simulated on chip:t1", "step 1 excluded", "tokens/s", "MFU", "bf16 on the matrix engine",
                           "utilisation     DMA", "compute-bound", "HBM traffic", "gemm256"})
    EXPECT_NE(text.find(part), std::string::npos) << part << " in\n" << text;
}

TEST(RunReportTest, KernelsBeyondTheTopOnesAddUpInOneRow) {
  Device device("chip:t1", small_t1("64MiB"));
  std::vector<StepWork> steps = gemm_steps(device, 1);
  RunReport r = make_run_report(device, steps, "images", false, 1);
  EXPECT_FALSE(r.first_step_excluded);
  ASSERT_EQ(r.kernels.size(), 2u);
  EXPECT_EQ(r.kernels[1].name, "other (2 kernels)");
  EXPECT_NEAR(r.kernels[0].seconds + r.kernels[1].seconds, r.step_seconds, 1e-12);
  EXPECT_EQ(format_run_report(r).find("bf16 on the matrix engine"), std::string::npos);
}

TEST(TimelineTraceTest, OneSlicePerLaunchOneAfterAnotherWithEngineTracks) {
  Device device("chip:t1", small_t1("64MiB"));
  isa::Program program = gemm_on(device, 256);
  launch(program, device.default_stream(), "untraced");
  TimelineTrace trace(device.chip());
  device.set_trace(&trace);
  std::vector<LaunchRecord> launches;
  for (const char* name : {"first", "second"}) launches.push_back(launch(program, device.default_stream(), name));
  device.set_trace(nullptr);
  launch(program, device.default_stream(), "after");
  EXPECT_EQ(trace.launches(), 2);
  nlohmann::json json = nlohmann::json::parse(trace.json());
  std::vector<nlohmann::json> kernels;
  int64_t matrix_slices = 0;
  for (const nlohmann::json& e : json.at("traceEvents")) {
    if (e.at("ph") != "X") continue;
    if (e.at("pid") == 0 && e.at("tid") == 0) kernels.push_back(e);
    if (e.at("pid") != 0 && e.at("tid") == static_cast<int>(isa::Engine::Matrix)) {
      ++matrix_slices;
      EXPECT_GE(e.at("ts").get<double>(), launches[0].start_seconds * 1e6);
      EXPECT_LE(e.at("ts").get<double>() + e.at("dur").get<double>(), launches[1].end_seconds * 1e6 + 1e-6);
    }
  }
  ASSERT_EQ(kernels.size(), 2u);
  EXPECT_EQ(kernels[0].at("name"), "first");
  EXPECT_EQ(kernels[1].at("name"), "second");
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_NEAR(kernels[i].at("ts").get<double>(), launches[i].start_seconds * 1e6, 1e-6);
    EXPECT_NEAR(kernels[i].at("dur").get<double>(), (launches[i].end_seconds - launches[i].start_seconds) * 1e6, 1e-6);
  }
  double first_end = kernels[0].at("ts").get<double>() + kernels[0].at("dur").get<double>();
  EXPECT_GE(kernels[1].at("ts").get<double>(), first_end - 1e-6);
  // Each core whose stream multiplies gets one matrix-engine slice per traced launch.
  int64_t multiplying_cores = 0;
  for (const std::vector<isa::Instruction>& core : program.cores)
    multiplying_cores += std::any_of(core.begin(), core.end(),
                                     [](const isa::Instruction& i) { return i.op == isa::Opcode::Mma; });
  EXPECT_GT(multiplying_cores, 1);
  EXPECT_EQ(matrix_slices, 2 * multiplying_cores);
}

}  // namespace
}  // namespace tessera::runtime::test
