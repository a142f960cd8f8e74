// SCALE-Sim topology layers as the compiler's GEMM programs: AlexNet conv1 and the GEMM cases
// of shared/reference/scalesim.md in ideal-bandwidth mode give SCALE-Sim's cycles exactly (the
// program adds nothing to the array's closed form), and real memories only add cycles.
#include "compiler/topology_run.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "sim/timing_test_util.h"

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
  std::string report = compiler::run_topology(path, chip("scalesim-32x32"), {true});
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
    arch::ChipSpec spec = chip(c.chip, {std::string("matrix.dataflow=") + c.dataflow});
    compiler::LayerReport r = compiler::run_gemm_layer(spec, layers[0], {true});
    EXPECT_EQ(r.total_cycles, c.cycles) << c.chip << " " << c.dataflow << " " << c.row;
    EXPECT_EQ(r.stall_cycles, 0);
    EXPECT_NEAR(r.compute_util, r.overall_util, 1e-12);
  }
}

TEST(Topology, RealMemoriesOnlyAddCycles) {
  std::string path = write_csv("two_layers.csv",
                               "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num "
                               "Filter, Strides,\nConv1, 224, 224, 11, 11, 3, 96, 4,\n"
                               "Conv2, 27, 27, 5, 5, 96, 256, 1,\n");
  arch::ChipSpec slow = chip("scalesim-32x32", {"hbm.bandwidth=16GB/s", "hbm.latency=100ns"});
  std::vector<TopologyLayer> layers = read_topology(path);
  ASSERT_EQ(layers.size(), 2u);
  EXPECT_EQ(layers[1].gemm.m, 23 * 23);
  for (const TopologyLayer& layer : layers) {
    compiler::LayerReport ideal = compiler::run_gemm_layer(slow, layer, {true});
    compiler::LayerReport real = compiler::run_gemm_layer(slow, layer, {false});
    EXPECT_GT(real.total_cycles, ideal.total_cycles) << layer.name;
    EXPECT_GT(real.stall_cycles, 0) << layer.name;
    EXPECT_LT(real.overall_util, ideal.overall_util) << layer.name;
  }
}

}  // namespace
}  // namespace tessera::sim
