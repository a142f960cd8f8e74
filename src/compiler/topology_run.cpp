// SCALE-Sim topology layers as the compiler's GEMM programs through the timing model (see
// topology_run.h).
#include "compiler/topology_run.h"

#include <algorithm>
#include <fmt/format.h>

#include "arch/chip_figures.h"
#include "compiler/gemm_timing.h"
#include "sim/stats.h"
#include "sim/timing_operands.h"

namespace tessera::compiler {

namespace {

// MAC slots the matrix engine spends on an mma: a systolic array's folds x R x C x T
// (SCALE-Sim's mapping), tensor cores' MMA tiles.
double mapped_mac_slots(const arch::ChipSpec& chip, int64_t m, int64_t n, int64_t k) {
  const arch::MatrixEngine& e = chip.matrix;
  if (e.kind == arch::MatrixKind::tensor_core) {
    int64_t depth = 16;  // 32 bytes of bf16
    auto padded = [](int64_t size, int64_t granule) {
      return static_cast<double>(sim::divide_up(size, granule) * granule);
    };
    return padded(m, e.rows) * padded(n, e.cols) * padded(k, depth);
  }
  arch::SystolicCycles c = arch::systolic_cycles({m, n, k}, e.rows, e.cols, e.dataflow);
  int64_t temporal = e.dataflow == arch::Dataflow::os ? k : e.dataflow == arch::Dataflow::ws ? m : n;
  return static_cast<double>(c.folds) * static_cast<double>(e.rows * e.cols) * static_cast<double>(temporal);
}

// Sums the MAC slots of every mma of a run.
class MappingObserver : public sim::SimObserver {
 public:
  explicit MappingObserver(const arch::ChipSpec& chip) : chip_(chip) {}
  void on_instruction(const sim::IssuedInstruction& issued, const sim::Interval&) override {
    if (issued.inst.op != isa::Opcode::Mma) return;
    const isa::Instruction& i = issued.inst;
    slots += mapped_mac_slots(chip_, sim::imm_operand(i, 3), sim::imm_operand(i, 4), sim::imm_operand(i, 5));
  }
  void on_blocked(int, isa::Engine, double, double, bool) override {}
  double slots = 0;

 private:
  const arch::ChipSpec& chip_;
};

}  // namespace

LayerReport run_gemm_layer(const arch::ChipSpec& chip, const sim::TopologyLayer& layer, sim::TimingOptions options) {
  // In ideal-bandwidth mode the accumulator is stored as it is, so that the layer's cycles are
  // the array's alone, as SCALE-Sim counts them; otherwise the output is converted to bf16.
  GemmKernel kernel;
  kernel.m = layer.gemm.m, kernel.n = layer.gemm.n, kernel.k = layer.gemm.k;
  kernel.out_dtype = options.ideal_bandwidth ? DType::F32 : DType::BF16;
  sim::Stats stats(chip);
  MappingObserver mapping(chip);
  sim::SimObserver* observers[] = {&stats, &mapping};
  time_gemm(kernel, chip, observers, options);

  double macs = kernel.flops() / 2;
  double macs_per_cycle = arch::macs_per_cycle(chip, arch::MatrixDtype::bf16);  // one core
  double busiest = 0;
  for (int c = 0; c < chip.cores; ++c) busiest = std::max(busiest, stats.engine(c, isa::Engine::Matrix).compute_cycles);
  LayerReport r;
  r.name = layer.name;
  r.total_cycles = stats.cycles();
  r.stall_cycles = r.total_cycles - busiest;
  r.overall_util = macs / (macs_per_cycle * static_cast<double>(chip.cores) * r.total_cycles);
  r.mapping_efficiency = macs / mapping.slots;
  r.compute_util = macs / (macs_per_cycle * stats.total(isa::Engine::Matrix).compute_cycles);
  r.seconds = stats.seconds() + chip.gemm_overhead_s();
  return r;
}

std::string topology_report(const std::vector<LayerReport>& layers) {
  std::string out = "LayerID, Total Cycles, Stall Cycles, Overall Util %, Mapping Efficiency %, Compute Util %, "
                    "Time us, Layer name,\n";
  for (size_t i = 0; i < layers.size(); ++i) {
    const LayerReport& r = layers[i];
    out += fmt::format("{}, {:.0f}, {:.0f}, {:.4f}, {:.4f}, {:.4f}, {:.3f}, {},\n", i, r.total_cycles, r.stall_cycles,
                       100 * r.overall_util, 100 * r.mapping_efficiency, 100 * r.compute_util, r.seconds * 1e6, r.name);
  }
  return out;
}

std::string run_topology(const std::string& path, const arch::ChipSpec& chip, sim::TimingOptions options) {
  std::vector<LayerReport> reports;
  for (const sim::TopologyLayer& layer : sim::read_topology(path))
    reports.push_back(run_gemm_layer(chip, layer, options));
  return topology_report(reports);
}

}  // namespace tessera::compiler
