// The predicted time of one GEMM call on a chip: the tiled GEMM program (sim/gemm_program.h)
// run through the timing model, plus the chip's fixed launch cost per kernel. Used to compare
// the GPU presets with measured GEMM times (bench/data/a100_gemm.csv).
#pragma once
#include "sim/gemm_program.h"
#include "sim/stats.h"

namespace tessera::sim {

struct GemmPrediction {
  GemmTiling tiling;
  double cycles = 0;   // the program, first instruction to last
  double seconds = 0;  // cycles / clock + launch overhead
  double flops_per_s = 0;  // 2 M N K / seconds
};

GemmPrediction predict_gemm(const ChipSpec& chip, const GemmProblem& problem, Stats* stats = nullptr);

}  // namespace tessera::sim
