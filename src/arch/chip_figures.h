// Figures derived from a chip description: peak throughput per dtype, the bandwidth and
// capacity of every memory level, and the ridge point of the roofline.
#pragma once
#include <cstdint>
#include <string>

#include "arch/chip.h"

namespace tessera::arch {

// Dense MACs per cycle of one core's matrix engine for inputs of `dtype` (0 when unsupported):
// systolic rows x cols, tensor_core matrix.macs_per_cycle; fp8 times matrix.fp8_rate.
double macs_per_cycle(const ChipSpec& chip, MatrixDtype dtype);

struct ChipFigures {
  double bf16_flops_per_s = 0;  // dense matrix peak: 2 x cores x MACs/cycle x clock
  double fp16_flops_per_s = 0;
  double fp8_flops_per_s = 0;          // 0 when fp8 is not supported
  double fp32_vector_flops_per_s = 0;  // cores x lanes x ops per lane-cycle x clock
  double scratchpad_bytes_per_s = 0;   // all cores together
  double l2_bytes_per_s = 0;
  double hbm_bytes_per_s = 0;
  double links_bytes_per_s = 0;       // all links, both directions together
  int64_t scratchpad_bytes = 0;       // all cores together
  int64_t on_chip_bytes = 0;          // scratchpads + L2
  double ridge_flops_per_byte = 0;    // bf16 peak / HBM bandwidth
};

ChipFigures chip_figures(const ChipSpec& chip);

// The text of `tessera chips show`: the chip's parameters and its derived figures.
std::string chip_report(const ChipSpec& chip);

}  // namespace tessera::arch
