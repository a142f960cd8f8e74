// `tessera sim --topology FILE.csv --chip NAME`: each layer of a SCALE-Sim topology file
// (sim/topology.h) runs as the compiler's GEMM (bf16 inputs) through the chip's timing model,
// and the layers are reported with SCALE-Sim's compute-report columns. In ideal-bandwidth mode
// the GEMM is one mma per core (ideal_gemm_tiling) with an f32 output stored as it is, so that
// a layer's cycles are the array's alone, as SCALE-Sim counts them.
#pragma once
#include <string>
#include <vector>

#include "sim/timing.h"
#include "sim/topology.h"

namespace tessera::compiler {

struct LayerReport {
  std::string name;
  double total_cycles = 0;    // the layer's program, first instruction to last
  double stall_cycles = 0;    // total - the busiest core's matrix-engine compute cycles
  double overall_util = 0;    // MACs / (all cores' MACs per cycle x total)
  double mapping_efficiency = 0;  // MACs / the MAC slots the mma tiles occupy
  double compute_util = 0;    // MACs / (MACs per cycle x the matrix engines' compute cycles)
  double seconds = 0;         // total / clock + the chip's GEMM-call overhead
};

// Runs one GEMM layer (bf16 inputs; bf16 output, f32 in ideal-bandwidth mode) on `chip`.
LayerReport run_gemm_layer(const arch::ChipSpec& chip, const sim::TopologyLayer& layer, sim::TimingOptions options);

// SCALE-Sim's compute report: LayerID (0, 1, ...), Total Cycles, Stall Cycles, Overall Util %,
// Mapping Efficiency %, Compute Util %; then the time in us (GEMM-call overhead included) and
// the layer's name.
std::string topology_report(const std::vector<LayerReport>& layers);

// What `tessera sim --topology` prints: every layer of `path` run on `chip`, then the report.
std::string run_topology(const std::string& path, const arch::ChipSpec& chip, sim::TimingOptions options);

}  // namespace tessera::compiler
