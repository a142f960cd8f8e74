// The systolic engine model against SCALE-Sim: every case SCALE-Sim itself produced
// (shared/reference/scalesim.md) as one mma on the scalesim test chips, and other GEMM sizes
// and convolutions against a fold-by-fold count written here.
#include <gtest/gtest.h>

#include "arch/systolic_cycles.h"
#include "timing_test_util.h"

namespace tessera::sim {
namespace {

using namespace testing;

struct Case {
  const char* chip;
  const char* dataflow;
  int64_t m, n, k, cycles;
};

TEST(SystolicTiming, EveryScaleSimCaseAsOneMma) {
  arch::GemmShape conv1 = arch::conv_as_gemm({224, 224, 11, 11, 3, 96, 4});
  const Case cases[] = {
      {"scalesim-32x32", "ws", conv1.m, conv1.n, conv1.k, 112283},
      {"scalesim-4x4", "os", 4, 4, 4, 9},       {"scalesim-4x4", "ws", 4, 4, 4, 13},
      {"scalesim-4x4", "is", 4, 4, 4, 13},      {"scalesim-8x8", "os", 8, 8, 8, 21},
      {"scalesim-8x8", "ws", 8, 8, 8, 29},      {"scalesim-8x8", "is", 8, 8, 8, 29},
      {"scalesim-16x16", "os", 16, 16, 16, 45}, {"scalesim-16x16", "ws", 16, 16, 16, 61},
      {"scalesim-16x16", "is", 16, 16, 16, 61}, {"scalesim-32x32", "os", 32, 32, 32, 93},
      {"scalesim-32x32", "ws", 32, 32, 32, 125}, {"scalesim-32x32", "is", 32, 32, 32, 125},
      {"scalesim-32x32", "os", 256, 128, 256, 10175},
  };
  for (const Case& c : cases) {
    arch::ChipSpec spec = chip(c.chip, {std::string("matrix.dataflow=") + c.dataflow});
    for (bool ideal : {true, false}) {  // the test chips' memories never stall the array
      Interval i = alone(spec, isa::Engine::Matrix, mma_of(c.m, c.n, c.k), ideal);
      EXPECT_EQ(i.end_cycle - i.start_cycle, c.cycles) << c.chip << " " << c.dataflow << " " << c.m;
      EXPECT_EQ(i.compute_cycles, c.cycles);
      EXPECT_EQ(i.memory_wait_cycles, 0);
      EXPECT_EQ(i.flops, 2.0 * c.m * c.n * c.k);
    }
  }
}

// Cycles counted fold by fold: each fold of the (Sr, Sc) plane fills, streams T and drains.
int64_t fold_by_fold(int64_t m, int64_t n, int64_t k, int64_t rows, int64_t cols, const std::string& dataflow) {
  int64_t sr = dataflow == "os" ? m : k, sc = dataflow == "is" ? m : n, t = dataflow == "os" ? k : dataflow == "ws" ? m : n;
  int64_t cycles = 0;
  for (int64_t r = 0; r < sr; r += rows) {
    for (int64_t c = 0; c < sc; c += cols) {
      cycles += dataflow == "os" ? t + rows + cols - 2 : 2 * rows + cols + t - 2;
    }
  }
  return cycles - 1;  // SCALE-Sim's trailing -1
}

TEST(SystolicTiming, OtherGemmsAndRectangularArraysMatchTheFoldCount) {
  for (const char* dataflow : {"os", "ws", "is"}) {
    arch::ChipSpec spec = chip("scalesim-8x8", {"matrix.rows=4", "matrix.cols=16", std::string("matrix.dataflow=") + dataflow});
    for (int64_t m : {1, 5, 33, 100}) {
      for (int64_t n : {3, 16, 47}) {
        for (int64_t k : {2, 17, 64}) {
          Interval i = alone(spec, isa::Engine::Matrix, mma_of(m, n, k), true);
          EXPECT_EQ(i.end_cycle, fold_by_fold(m, n, k, 4, 16, dataflow)) << dataflow << " " << m << "x" << n << "x" << k;
        }
      }
    }
  }
}

TEST(SystolicTiming, ConvolutionsMapToGemmsWithCeilOutputSize) {
  struct Conv {
    arch::ConvShape shape;
    int64_t out_pixels;
  };
  const Conv convs[] = {
      {{56, 56, 3, 3, 64, 64, 1}, 54 * 54},     // stride 1: H - Fh + 1
      {{27, 27, 5, 5, 96, 256, 2}, 12 * 12},    // ceil((27 - 5 + 2) / 2) = 12
      {{13, 13, 3, 3, 256, 384, 3}, 5 * 5},     // ceil((13 - 3 + 3) / 3) = 5
  };
  for (const Conv& c : convs) {
    arch::GemmShape g = arch::conv_as_gemm(c.shape);
    EXPECT_EQ(g.m, c.out_pixels);
    EXPECT_EQ(g.k, c.shape.filter_height * c.shape.filter_width * c.shape.channels);
    arch::ChipSpec spec = chip("scalesim-32x32");
    Interval i = alone(spec, isa::Engine::Matrix, mma_of(g.m, g.n, g.k), true);
    EXPECT_EQ(i.end_cycle, fold_by_fold(g.m, g.n, g.k, 32, 32, "ws"));
  }
}

TEST(SystolicTiming, Fp8PacksTwoProductsPerPeAlongK) {
  arch::ChipSpec t1 = chip("t1");
  ASSERT_EQ(t1.matrix.fp8_rate, 2);
  Interval fp8 = alone(t1, isa::Engine::Matrix, mma_of(256, 256, 256, DType::F8E4M3), true);
  Interval bf16 = alone(t1, isa::Engine::Matrix, mma_of(256, 256, 128), true);
  EXPECT_EQ(fp8.end_cycle, bf16.end_cycle);
  EXPECT_EQ(fp8.flops, 2.0 * 256 * 256 * 256);
}

TEST(SystolicTiming, ASlowScratchpadStretchesTheMma) {
  // 4x4 WS, 4x4x4: 13 cycles; a, b bf16 (32 B each) + acc f32 written (64 B) = 128 B at 4 B/cycle.
  arch::ChipSpec spec = chip("scalesim-4x4", {"scratchpad.bandwidth=4GB/s"});
  Interval i = alone(spec, isa::Engine::Matrix, mma_of(4, 4, 4));
  EXPECT_EQ(i.compute_cycles, 13);
  EXPECT_DOUBLE_EQ(i.end_cycle, 32);
  EXPECT_DOUBLE_EQ(i.memory_wait_cycles, 32 - 13);
  EXPECT_EQ(i.bytes[static_cast<int>(Level::Spm)], 128);
  // Accumulating reads acc too: 192 B.
  Interval acc = alone(spec, isa::Engine::Matrix, mma_of(4, 4, 4, DType::BF16, isa::AccMode::Accumulate));
  EXPECT_DOUBLE_EQ(acc.end_cycle, 48);
}

TEST(SystolicTiming, UnsupportedInputDtypeNamesTheChip) {
  arch::ChipSpec spec = chip("scalesim-4x4");
  std::string error = error_of([&] { alone(spec, isa::Engine::Matrix, mma_of(4, 4, 4, DType::F16)); });
  EXPECT_EQ(error, "line 0: mma: chip scalesim-4x4 does not multiply f16 inputs (its matrix engine takes bf16)");
}

}  // namespace
}  // namespace tessera::sim
