// A chip description: the figures a chip YAML file sets (see chip_params.cpp for every key,
// its unit, default and meaning). GPU presets map an SM to a core with a tensor-core engine.
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "arch/systolic_cycles.h"

namespace tessera::arch {

enum class MatrixKind { systolic, tensor_core };
enum class MatrixDtype { bf16, fp16, fp8 };  // input dtypes; accumulation is fp32
inline constexpr std::array<MatrixKind, 2> kMatrixKinds = {MatrixKind::systolic, MatrixKind::tensor_core};
inline constexpr std::array<MatrixDtype, 3> kMatrixDtypes = {MatrixDtype::bf16, MatrixDtype::fp16, MatrixDtype::fp8};

std::string_view matrix_kind_name(MatrixKind kind);     // "systolic", "tensor_core"
std::string_view matrix_dtype_name(MatrixDtype dtype);  // "bf16", "fp16", "fp8"

// Per core: the engine that multiplies tiles.
struct MatrixEngine {
  MatrixKind kind = MatrixKind::systolic;
  int64_t rows = 0, cols = 0;           // systolic: PE array; tensor_core: smallest MMA output tile
  double macs_per_cycle = 0;            // tensor_core: bf16/fp16 MACs per cycle per core
  Dataflow dataflow = Dataflow::ws;     // systolic only
  std::vector<MatrixDtype> dtypes;      // supported input dtypes
  double fp8_rate = 0;                  // fp8 MACs per bf16 MAC
  double sustained_rate = 1;            // tensor_core: share of the MAC rate held over long MMA runs
};

// Per core: the engine for elementwise work, reductions and conversions (fp32).
struct VectorEngine {
  int64_t lanes = 0;
  double ops_per_lane_cycle = 0;  // fp32 operations per lane per cycle (an FMA counts 2)
};

struct ChipSpec {
  std::string name, description;
  int64_t cores = 0;
  double clock_hz = 0;
  double launch_overhead_s = 0;     // fixed cost of launching one kernel
  double gemm_call_overhead_s = 0;  // fixed cost of one GEMM-library call; 0 = launch_overhead_s
  // What a GEMM (or convolution, or attention) call pays on top of its body.
  double gemm_overhead_s() const { return gemm_call_overhead_s > 0 ? gemm_call_overhead_s : launch_overhead_s; }

  MatrixEngine matrix;
  VectorEngine vector;
  int64_t scratchpad_bytes = 0;              // per core
  double scratchpad_bytes_per_s = 0;         // per core
  int64_t dma_engines = 0;                   // per core
  int64_t l2_bytes = 0;                      // shared on-chip memory
  double l2_bytes_per_s = 0;
  int64_t hbm_bytes = 0;
  double hbm_bytes_per_s = 0;
  double hbm_latency_s = 0;
  double hbm_efficiency = 1;                 // share of hbm_bytes_per_s that streaming kernels reach
  int64_t links = 0;                         // chip-to-chip links
  double link_bytes_per_s = 0;               // per link, both directions together
  double host_link_bytes_per_s = 0;          // host <-> HBM copies, each direction

  // Where each key was last set: "file:line" or "--set key=value"; keys left at their
  // default are absent. Error messages about a key name this place.
  std::map<std::string, std::string> set_at;
  std::string source;  // the file the chip came from ("" when built in code)

  bool supports(MatrixDtype dtype) const;
  // The place to name in an error about `key`: where it was set, or "<source> (default)".
  std::string where(const std::string& key) const;
};

}  // namespace tessera::arch
