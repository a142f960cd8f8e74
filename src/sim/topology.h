// SCALE-Sim topology files on a Tessera chip: `tessera sim --topology FILE.csv --chip NAME`.
// A topology CSV has one header line, then one layer a line, each ending with a comma:
//   convolution: Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels,
//                Num Filter, Strides,
//   GEMM:        Layer name, M, N, K,
// (the header's column count says which). Each layer becomes a GEMM (a convolution by
// arch::conv_as_gemm); compiler/topology_run.h runs it as the compiler's GEMM program through
// the timing model and reports SCALE-Sim's compute-report columns, so SCALE-Sim files run
// unchanged.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "arch/systolic_cycles.h"

namespace tessera::sim {

struct TopologyLayer {
  std::string name;
  arch::GemmShape gemm;
  int line = 0;  // in the file
};

// The layers of a topology file. Errors name "<path>:<line>" and what is wrong.
std::vector<TopologyLayer> parse_topology(std::string_view text, const std::string& path);
std::vector<TopologyLayer> read_topology(const std::string& path);

}  // namespace tessera::sim
