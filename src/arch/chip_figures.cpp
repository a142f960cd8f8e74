// Derived figures of a chip and their report.
#include "arch/chip_figures.h"

#include <fmt/format.h>

#include "arch/units.h"

namespace tessera::arch {

namespace {

std::string tflops(double flops_per_s) {
  return flops_per_s > 0 ? fmt::format("{:.1f}", flops_per_s / 1e12) : std::string("-");
}

std::string size(double bytes) { return format_quantity(bytes, Dimension::size); }
std::string bandwidth(double bytes_per_s) { return format_quantity(bytes_per_s, Dimension::bandwidth); }

std::string dtype_list(const ChipSpec& chip) {
  std::string list;
  for (MatrixDtype dtype : chip.matrix.dtypes) {
    list += (list.empty() ? "" : ", ") + std::string(matrix_dtype_name(dtype));
  }
  return list;
}

}  // namespace

double macs_per_cycle(const ChipSpec& chip, MatrixDtype dtype) {
  if (!chip.supports(dtype)) return 0;
  const MatrixEngine& matrix = chip.matrix;
  double base = matrix.kind == MatrixKind::systolic ? static_cast<double>(matrix.rows * matrix.cols)
                                                    : matrix.macs_per_cycle;
  return dtype == MatrixDtype::fp8 ? base * matrix.fp8_rate : base;
}

ChipFigures chip_figures(const ChipSpec& chip) {
  ChipFigures f;
  double cycles_per_s = static_cast<double>(chip.cores) * chip.clock_hz;  // all cores together
  f.bf16_flops_per_s = 2 * macs_per_cycle(chip, MatrixDtype::bf16) * cycles_per_s;
  f.fp16_flops_per_s = 2 * macs_per_cycle(chip, MatrixDtype::fp16) * cycles_per_s;
  f.fp8_flops_per_s = 2 * macs_per_cycle(chip, MatrixDtype::fp8) * cycles_per_s;
  f.fp32_vector_flops_per_s = static_cast<double>(chip.vector.lanes) * chip.vector.ops_per_lane_cycle * cycles_per_s;
  f.scratchpad_bytes_per_s = static_cast<double>(chip.cores) * chip.scratchpad_bytes_per_s;
  f.l2_bytes_per_s = chip.l2_bytes_per_s;
  f.hbm_bytes_per_s = chip.hbm_bytes_per_s;
  f.links_bytes_per_s = static_cast<double>(chip.links) * chip.link_bytes_per_s;
  f.scratchpad_bytes = chip.cores * chip.scratchpad_bytes;
  f.on_chip_bytes = f.scratchpad_bytes + chip.l2_bytes;
  f.ridge_flops_per_byte = f.bf16_flops_per_s / chip.hbm_bytes_per_s;
  return f;
}

std::string chip_report(const ChipSpec& chip) {
  ChipFigures f = chip_figures(chip);
  const MatrixEngine& m = chip.matrix;
  std::string engine = m.kind == MatrixKind::systolic
                           ? fmt::format("{}x{} systolic array, {} dataflow", m.rows, m.cols, dataflow_name(m.dataflow))
                           : fmt::format("tensor cores, {:g} bf16 MACs/cycle", m.macs_per_cycle);
  std::string out = fmt::format("{}: {}\n", chip.name, chip.description);
  out += fmt::format("  cores            {} at {}\n", chip.cores, format_quantity(chip.clock_hz, Dimension::frequency));
  out += fmt::format("  matrix engine    {}; inputs {}", engine, dtype_list(chip));
  out += chip.supports(MatrixDtype::fp8) ? fmt::format(" (fp8 x{:g})\n", m.fp8_rate) : "\n";
  out += fmt::format("  vector engine    {} fp32 lanes x {:g} ops/cycle\n", chip.vector.lanes,
                     chip.vector.ops_per_lane_cycle);
  out += fmt::format("  peak TFLOPS      bf16 {}, fp16 {}, fp8 {}, fp32 (vector) {}\n", tflops(f.bf16_flops_per_s),
                     tflops(f.fp16_flops_per_s), tflops(f.fp8_flops_per_s), tflops(f.fp32_vector_flops_per_s));
  out += fmt::format("  scratchpad       {} and {} per core ({} in all)\n", size(chip.scratchpad_bytes),
                     bandwidth(chip.scratchpad_bytes_per_s), bandwidth(f.scratchpad_bytes_per_s));
  out += fmt::format("  DMA engines      {} per core\n", chip.dma_engines);
  out += fmt::format("  shared (L2)      {}, {}\n", size(chip.l2_bytes), bandwidth(f.l2_bytes_per_s));
  out += fmt::format("  on-chip memory   {} (scratchpads {} + L2)\n", size(f.on_chip_bytes), size(f.scratchpad_bytes));
  out += fmt::format("  HBM              {}, {} ({:.0f} % reached by streaming kernels), latency {}\n",
                     size(chip.hbm_bytes), bandwidth(f.hbm_bytes_per_s), 100 * chip.hbm_efficiency,
                     format_quantity(chip.hbm_latency_s, Dimension::duration));
  out += fmt::format("  chip-to-chip     {} links x {} = {} (both directions)\n", chip.links,
                     bandwidth(chip.link_bytes_per_s), bandwidth(f.links_bytes_per_s));
  out += fmt::format("  launch overhead  {}\n", format_quantity(chip.launch_overhead_s, Dimension::duration));
  out += fmt::format("  ridge point      {:.1f} bf16 FLOP per HBM byte\n", f.ridge_flops_per_byte);
  return out;
}

}  // namespace tessera::arch
