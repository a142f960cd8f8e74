// SCALE-Sim topology files on a Tessera chip: `tessera sim --topology FILE.csv --chip NAME`.
// A topology CSV has one header line, then one layer a line, each ending with a comma:
//   convolution: Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels,
//                Num Filter, Strides,
//   GEMM:        Layer name, M, N, K,
// (the header's column count says which). Each layer becomes a GEMM (a convolution by
// arch::conv_as_gemm), runs as a tiled program (sim/gemm_program.h) through the timing model,
// and is reported with SCALE-Sim's compute-report columns, so SCALE-Sim files run unchanged.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "arch/systolic_cycles.h"
#include "sim/timing.h"

namespace tessera::sim {

struct TopologyLayer {
  std::string name;
  arch::GemmShape gemm;
  int line = 0;  // in the file
};

// The layers of a topology file. Errors name "<path>:<line>" and what is wrong.
std::vector<TopologyLayer> parse_topology(std::string_view text, const std::string& path);
std::vector<TopologyLayer> read_topology(const std::string& path);

struct LayerReport {
  std::string name;
  double total_cycles = 0;    // the layer's program, first instruction to last
  double stall_cycles = 0;    // total - the busiest core's matrix-engine compute cycles
  double overall_util = 0;    // MACs / (all cores' MACs per cycle x total)
  double mapping_efficiency = 0;  // MACs / the MAC slots the mma tiles occupy
  double compute_util = 0;    // MACs / (MACs per cycle x the matrix engines' compute cycles)
  double seconds = 0;         // total / clock + the chip's launch overhead
};

// Runs one GEMM layer (bf16 inputs; bf16 output, f32 in ideal-bandwidth mode) on `chip`.
LayerReport run_gemm_layer(const ChipSpec& chip, const TopologyLayer& layer, TimingOptions options);

// SCALE-Sim's compute report: LayerID (0, 1, ...), Total Cycles, Stall Cycles, Overall Util %,
// Mapping Efficiency %, Compute Util %; then the time in us (launch overhead included) and the
// layer's name.
std::string topology_report(const std::vector<LayerReport>& layers);

// What `tessera sim --topology` prints: every layer of `path` run on `chip`, then the report.
std::string run_topology(const std::string& path, const ChipSpec& chip, TimingOptions options);

}  // namespace tessera::sim
