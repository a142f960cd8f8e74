// The chip key (see chip_key.h).
#include "compiler/chip_key.h"

#include <fmt/format.h>

namespace tessera::compiler {

std::string chip_key(const arch::ChipSpec& c) {
  // Every field that can change a program or its timing; floating-point values in hex, exactly.
  std::string figures = fmt::format(
      "{}|{:a}|{:a}|{:a}|{}|{}|{}|{:a}|{}|{:a}|{}|{:a}|{}|{:a}|{}|{}|{:a}|{}|{:a}|{:a}|{}|{:a}", c.cores, c.clock_hz,
      c.launch_overhead_s, c.gemm_call_overhead_s, static_cast<int>(c.matrix.kind), c.matrix.rows, c.matrix.cols,
      c.matrix.macs_per_cycle, static_cast<int>(c.matrix.dataflow), c.matrix.fp8_rate, c.vector.lanes,
      c.vector.ops_per_lane_cycle, c.scratchpad_bytes, c.scratchpad_bytes_per_s, c.dma_engines, c.l2_bytes,
      c.l2_bytes_per_s, c.hbm_bytes, c.hbm_bytes_per_s, c.hbm_latency_s, c.links, c.link_bytes_per_s);
  for (arch::MatrixDtype d : c.matrix.dtypes) figures += fmt::format("|{}", static_cast<int>(d));
  uint64_t hash = 1469598103934665603ull;
  for (unsigned char ch : figures) hash = (hash ^ ch) * 1099511628211ull;
  return fmt::format("{}-{:016x}", c.name, hash);
}

}  // namespace tessera::compiler
