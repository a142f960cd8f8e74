// SCALE-Sim topology files: layers read from both file kinds, malformed files named with the
// line and the problem. (Running the layers: tests/compiler/topology_run_test.cpp.)
#include "sim/topology.h"

#include <gtest/gtest.h>

#include "timing_test_util.h"

namespace tessera::sim {
namespace {

using namespace testing;

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
