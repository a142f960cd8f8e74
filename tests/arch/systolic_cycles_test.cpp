// The SCALE-Sim closed form against every case SCALE-Sim itself produced
// (shared/reference/scalesim.md), on the scalesim-RxR test chips.
#include "arch/systolic_cycles.h"

#include <gtest/gtest.h>

#include "arch/chip_loader.h"
#include "arch_test_util.h"

namespace tessera::arch {
namespace {

using testing::error_text;

TEST(SystolicCycles, AlexNetConv1OnScaleSim32x32WeightStationary) {
  ConvShape conv1{.ifmap_height = 224, .ifmap_width = 224, .filter_height = 11, .filter_width = 11,
                  .channels = 3, .filters = 96, .stride = 4};
  GemmShape gemm = conv_as_gemm(conv1);
  EXPECT_EQ(gemm.m, 55 * 55);  // ceil((224 - 11 + 4) / 4) = 55, not 54
  EXPECT_EQ(gemm.n, 96);
  EXPECT_EQ(gemm.k, 11 * 11 * 3);
  ChipSpec chip = load_chip("scalesim-32x32", {}, testing::presets_dir());
  ASSERT_EQ(chip.matrix.dataflow, Dataflow::ws);
  SystolicCycles run = systolic_cycles(gemm, chip.matrix.rows, chip.matrix.cols, chip.matrix.dataflow);
  EXPECT_EQ(run.folds, 12 * 3);
  EXPECT_EQ(run.cycles, 112283);
  EXPECT_EQ(run.macs, 3025LL * 96 * 363);
  EXPECT_NEAR(100 * run.utilization, 91.683, 0.0005);
}

struct SquareCase {
  int64_t size;  // M = N = K = array rows = array cols
  int64_t os, ws, is;
};

TEST(SystolicCycles, SquareGemmsOnMatchingArrays) {
  for (SquareCase c : {SquareCase{4, 9, 13, 13}, SquareCase{8, 21, 29, 29}, SquareCase{16, 45, 61, 61},
                       SquareCase{32, 93, 125, 125}}) {
    std::string name = fmt::format("scalesim-{}x{}", c.size, c.size);
    ChipSpec chip = load_chip(name, {}, testing::presets_dir());
    GemmShape gemm{c.size, c.size, c.size};
    auto cycles = [&](Dataflow dataflow) {
      return systolic_cycles(gemm, chip.matrix.rows, chip.matrix.cols, dataflow).cycles;
    };
    EXPECT_EQ(cycles(Dataflow::os), c.os) << name;
    EXPECT_EQ(cycles(Dataflow::ws), c.ws) << name;
    EXPECT_EQ(cycles(Dataflow::is), c.is) << name;
  }
}

TEST(SystolicCycles, RectangularGemmOutputStationary) {
  SystolicCycles run = systolic_cycles({.m = 256, .n = 128, .k = 256}, 32, 32, Dataflow::os);
  EXPECT_EQ(run.folds, 8 * 4);
  EXPECT_EQ(run.cycles, 10175);
}

TEST(SystolicCycles, DataflowsMapDifferentDimensionsToTheArray) {
  // M = 100, N = 40, K = 70 on 32 x 16: OS folds ceil(100/32) * ceil(40/16) = 4 * 3;
  // WS ceil(70/32) * ceil(40/16) = 3 * 3; IS ceil(70/32) * ceil(100/16) = 3 * 7.
  GemmShape gemm{.m = 100, .n = 40, .k = 70};
  EXPECT_EQ(systolic_cycles(gemm, 32, 16, Dataflow::os).cycles, 12 * (70 + 32 + 16 - 2) - 1);
  EXPECT_EQ(systolic_cycles(gemm, 32, 16, Dataflow::ws).cycles, 9 * (64 + 16 + 100 - 2) - 1);
  EXPECT_EQ(systolic_cycles(gemm, 32, 16, Dataflow::is).cycles, 21 * (64 + 16 + 40 - 2) - 1);
}

TEST(SystolicCycles, BadShapesAreErrors) {
  EXPECT_EQ(error_text([] { systolic_cycles({.m = 0, .n = 4, .k = 4}, 4, 4, Dataflow::os); }),
            "GEMM: M must be positive, got 0");
  EXPECT_EQ(error_text([] { systolic_cycles({.m = 4, .n = 4, .k = 4}, 4, -1, Dataflow::os); }),
            "systolic array: cols must be positive, got -1");
  EXPECT_EQ(error_text([] {
              conv_as_gemm({.ifmap_height = 8, .ifmap_width = 8, .filter_height = 11, .filter_width = 11,
                            .channels = 3, .filters = 96, .stride = 4});
            }),
            "convolution: filter 11x11 is larger than the ifmap 8x8");
  EXPECT_EQ(error_text([] {
              conv_as_gemm({.ifmap_height = 8, .ifmap_width = 8, .filter_height = 3, .filter_width = 3,
                            .channels = 3, .filters = 96, .stride = 0});
            }),
            "convolution: stride must be positive, got 0");
}

}  // namespace
}  // namespace tessera::arch
