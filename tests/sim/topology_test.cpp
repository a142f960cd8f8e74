// SCALE-Sim topology files: AlexNet conv1 and the GEMM cases of shared/reference/scalesim.md
// through the topology path, the report's columns, and malformed files.
#include "sim/topology.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "timing_test_util.h"

namespace tessera::sim {
namespace {

using namespace testing;

std::string write_csv(const std::string& name, const std::string& text) {
  std::filesystem::path dir = std::filesystem::path(TESSERA_BINARY_DIR) / "test_tmp" / "topology";
  std::filesystem::create_directories(dir);
  std::filesystem::path path = dir / name;
  std::ofstream(path) << text;
  return path.string();
}

const char* kAlexNetConv1 =
    "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
    "Conv1, 224, 224, 11, 11, 3, 96, 4,\n";

TEST(Topology, AlexNetConv1OnScaleSim32x32WeightStationary) {
  std::string path = write_csv("alexnet_conv1.csv", kAlexNetConv1);
  std::string report = run_topology(path, chip("scalesim-32x32"), {true});
  // Mapping: K = 363 over 12 folds of 32 rows (363 / 384), N = 96 over 3 of 32 columns.
  EXPECT_EQ(report,
            "LayerID, Total Cycles, Stall Cycles, Overall Util %, Mapping Efficiency %, Compute Util %, Time us, Layer "
            "name,\n"
            "0, 112283, 0, 91.6831, 94.5312, 91.6831, 112.283, Conv1,\n");  // SCALE-Sim: 91.683 %
}

TEST(Topology, GemmRowsOnEveryArrayAndDataflow) {
  struct Case {
    const char* chip;
    const char* dataflow;
    const char* row;
    double cycles;
  };
  const Case cases[] = {
      {"scalesim-4x4", "os", "G, 4, 4, 4,", 9},          {"scalesim-4x4", "ws", "G, 4, 4, 4,", 13},
      {"scalesim-4x4", "is", "G, 4, 4, 4,", 13},         {"scalesim-8x8", "os", "G, 8, 8, 8,", 21},
      {"scalesim-8x8", "ws", "G, 8, 8, 8,", 29},         {"scalesim-8x8", "is", "G, 8, 8, 8,", 29},
      {"scalesim-16x16", "os", "G, 16, 16, 16,", 45},    {"scalesim-16x16", "ws", "G, 16, 16, 16,", 61},
      {"scalesim-16x16", "is", "G, 16, 16, 16,", 61},    {"scalesim-32x32", "os", "G, 32, 32, 32,", 93},
      {"scalesim-32x32", "ws", "G, 32, 32, 32,", 125},   {"scalesim-32x32", "is", "G, 32, 32, 32,", 125},
      {"scalesim-32x32", "os", "G, 256, 128, 256,", 10175},
  };
  for (const Case& c : cases) {
    std::vector<TopologyLayer> layers = parse_topology(std::string("Layer, M, N, K,\n") + c.row + "\n", "gemm.csv");
    ASSERT_EQ(layers.size(), 1u);
    LayerReport r = run_gemm_layer(chip(c.chip, {std::string("matrix.dataflow=") + c.dataflow}), layers[0], {true});
    EXPECT_EQ(r.total_cycles, c.cycles) << c.chip << " " << c.dataflow << " " << c.row;
    EXPECT_EQ(r.stall_cycles, 0);
    EXPECT_NEAR(r.compute_util, r.overall_util, 1e-12);
  }
}

TEST(Topology, RealMemoriesOnlyAddCycles) {
  std::string path = write_csv("two_layers.csv",
                               "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num "
                               "Filter, Strides,\nConv1, 224, 224, 11, 11, 3, 96, 4,\nConv2, 27, 27, 5, 5, 96, 256, 1,\n");
  arch::ChipSpec slow = chip("scalesim-32x32", {"hbm.bandwidth=16GB/s", "hbm.latency=100ns"});
  std::vector<TopologyLayer> layers = read_topology(path);
  ASSERT_EQ(layers.size(), 2u);
  EXPECT_EQ(layers[1].gemm.m, 23 * 23);
  for (const TopologyLayer& layer : layers) {
    LayerReport ideal = run_gemm_layer(slow, layer, {true});
    LayerReport real = run_gemm_layer(slow, layer, {false});
    EXPECT_GT(real.total_cycles, ideal.total_cycles) << layer.name;
    EXPECT_GT(real.stall_cycles, 0) << layer.name;
    EXPECT_LT(real.overall_util, ideal.overall_util) << layer.name;
  }
}

TEST(Topology, MalformedFilesNameFileLineAndProblem) {
  auto error = [](const std::string& text) { return error_of([&] { parse_topology(text, "net.csv"); }); };
  EXPECT_EQ(error("Layer, A, B,\nL, 1, 2,\n"),
            "net.csv:1: the header has 3 columns; a topology has 8 (Layer name, IFMAP Height, IFMAP Width, Filter "
            "Height, Filter Width, Channels, Num Filter, Strides) or 4 (Layer name, M, N, K)");
  EXPECT_EQ(error("Layer, M, N, K,\nL1, 4, 4, 4,\nL2, 4, 4,\n"),
            "net.csv:3: expected 4 columns (Layer name, M, N, K) as the header says, got 3");
  EXPECT_EQ(error("Layer, M, N, K,\n\nL1, 4, x4, 4,\n"), "net.csv:3: N: 'x4' is not a positive whole number");
  EXPECT_EQ(error("Layer, M, N, K,\nL1, 4, 0, 4,\n"), "net.csv:2: N: '0' is not a positive whole number");
  EXPECT_EQ(error("Layer, M, N, K,\n, 4, 4, 4,\n"), "net.csv:2: the layer name is empty");
  EXPECT_EQ(error("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
                  "C, 8, 8, 9, 3, 3, 4, 1,\n"),
            "net.csv:2: layer C: convolution: filter 9x3 is larger than the ifmap 8x8");
  EXPECT_EQ(error("Layer, M, N, K,\n"), "net.csv: no layers (a header line, then one line per layer)");
  EXPECT_NE(error_of([] { read_topology("/nonexistent/net.csv"); }).find("/nonexistent/net.csv"), std::string::npos);
}

TEST(Topology, RowsWithoutTheTrailingCommaAndWindowsLineEndsAreRead) {
  std::vector<TopologyLayer> layers = parse_topology("Layer, M, N, K\r\nQKt, 1024, 1024, 64\r\n", "gemm.csv");
  ASSERT_EQ(layers.size(), 1u);
  EXPECT_EQ(layers[0].name, "QKt");
  EXPECT_EQ(layers[0].gemm.m, 1024);
  EXPECT_EQ(layers[0].gemm.k, 64);
  EXPECT_EQ(layers[0].line, 2);
}

}  // namespace
}  // namespace tessera::sim
