// Topology CSV reading, per-layer runs and the compute report.
#include "sim/topology.h"

#include <algorithm>
#include <charconv>

#include "arch/chip_figures.h"
#include "base/atomic_file.h"
#include "base/error.h"
#include "sim/gemm_program.h"
#include "sim/stats.h"
#include "sim/timing_operands.h"
#include "sim/timing_run.h"

namespace tessera::sim {

namespace {

const std::vector<std::string> kConvColumns = {"IFMAP Height", "IFMAP Width", "Filter Height", "Filter Width",
                                               "Channels",     "Num Filter",  "Strides"};
const std::vector<std::string> kGemmColumns = {"M", "N", "K"};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// The fields of a line; the comma that ends a row does not start another field.
std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t at = 0;
  while (true) {
    size_t comma = line.find(',', at);
    out.push_back(trim(line.substr(at, comma == std::string_view::npos ? std::string_view::npos : comma - at)));
    if (comma == std::string_view::npos) break;
    at = comma + 1;
  }
  if (out.size() > 1 && out.back().empty()) out.pop_back();
  return out;
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// MAC slots the matrix engine spends on an mma: a systolic array's folds x R x C x T
// (SCALE-Sim's mapping), tensor cores' MMA tiles.
double mapped_mac_slots(const ChipSpec& chip, int64_t m, int64_t n, int64_t k) {
  const arch::MatrixEngine& e = chip.matrix;
  if (e.kind == arch::MatrixKind::tensor_core) {
    int64_t depth = 16;  // 32 bytes of bf16
    return static_cast<double>(divide_up(m, e.rows) * e.rows) * static_cast<double>(divide_up(n, e.cols) * e.cols) *
           static_cast<double>(divide_up(k, depth) * depth);
  }
  arch::SystolicCycles c = arch::systolic_cycles({m, n, k}, e.rows, e.cols, e.dataflow);
  int64_t temporal = e.dataflow == arch::Dataflow::os ? k : e.dataflow == arch::Dataflow::ws ? m : n;
  return static_cast<double>(c.folds) * static_cast<double>(e.rows * e.cols) * static_cast<double>(temporal);
}

// Sums the MAC slots of every mma of a run.
class MappingObserver : public SimObserver {
 public:
  explicit MappingObserver(const ChipSpec& chip) : chip_(chip) {}
  void on_instruction(const IssuedInstruction& issued, const Interval&) override {
    if (issued.inst.op != isa::Opcode::Mma) return;
    const isa::Instruction& i = issued.inst;
    slots += mapped_mac_slots(chip_, imm_operand(i, 3), imm_operand(i, 4), imm_operand(i, 5));
  }
  void on_blocked(int, isa::Engine, double, double, bool) override {}
  double slots = 0;

 private:
  const ChipSpec& chip_;
};

}  // namespace

std::vector<TopologyLayer> parse_topology(std::string_view text, const std::string& path) {
  std::vector<TopologyLayer> layers;
  const std::vector<std::string>* columns = nullptr;
  bool conv = false;
  int line_number = 0;
  for (size_t at = 0; at < text.size();) {
    size_t end = std::min(text.find('\n', at), text.size());
    std::string_view line = trim(text.substr(at, end - at));
    at = end + 1;
    ++line_number;
    if (line.empty()) continue;
    std::vector<std::string_view> f = fields(line);
    if (!columns) {  // the header
      if (f.size() == kConvColumns.size() + 1) {
        columns = &kConvColumns, conv = true;
      } else if (f.size() == kGemmColumns.size() + 1) {
        columns = &kGemmColumns;
      } else {
        fail("{}:{}: the header has {} columns; a topology has 8 (Layer name, {}) or 4 (Layer name, {})", path,
             line_number, f.size(), join(kConvColumns), join(kGemmColumns));
      }
      continue;
    }
    if (f.size() != columns->size() + 1) {
      fail("{}:{}: expected {} columns (Layer name, {}) as the header says, got {}", path, line_number,
           columns->size() + 1, join(*columns), f.size());
    }
    if (f[0].empty()) fail("{}:{}: the layer name is empty", path, line_number);
    std::vector<int64_t> v;
    for (size_t i = 1; i < f.size(); ++i) {
      int64_t value = 0;
      auto [ptr, ec] = std::from_chars(f[i].data(), f[i].data() + f[i].size(), value);
      if (ec != std::errc() || ptr != f[i].data() + f[i].size() || value <= 0) {
        fail("{}:{}: {}: '{}' is not a positive whole number", path, line_number, (*columns)[i - 1], f[i]);
      }
      v.push_back(value);
    }
    TopologyLayer layer{std::string(f[0]), {}, line_number};
    if (conv) {
      try {
        layer.gemm = arch::conv_as_gemm({v[0], v[1], v[2], v[3], v[4], v[5], v[6]});
      } catch (const Error& e) {
        fail("{}:{}: layer {}: {}", path, line_number, layer.name, e.what());
      }
    } else {
      layer.gemm = {v[0], v[1], v[2]};
    }
    layers.push_back(layer);
  }
  if (layers.empty()) fail("{}: no layers (a header line, then one line per layer)", path);
  return layers;
}

std::vector<TopologyLayer> read_topology(const std::string& path) { return parse_topology(read_file_bytes(path), path); }

LayerReport run_gemm_layer(const ChipSpec& chip, const TopologyLayer& layer, TimingOptions options) {
  // In ideal-bandwidth mode the accumulator is stored as it is, so that the layer's cycles are
  // the array's alone, as SCALE-Sim counts them; otherwise the output is converted to bf16.
  GemmProblem problem{layer.gemm, DType::BF16, options.ideal_bandwidth ? DType::F32 : DType::BF16};
  GemmTiling tiling = choose_gemm_tiling(chip, problem, options.ideal_bandwidth);
  TimingModel model(chip, options);
  Stats stats(chip);
  MappingObserver mapping(chip);
  SimObserver* observers[] = {&stats, &mapping};
  run_timing(model, static_cast<int>(chip.cores), gemm_work(chip, problem, tiling), observers);

  double macs = static_cast<double>(layer.gemm.m) * static_cast<double>(layer.gemm.n) * static_cast<double>(layer.gemm.k);
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
  std::string out =
      "LayerID, Total Cycles, Stall Cycles, Overall Util %, Mapping Efficiency %, Compute Util %, Time us, Layer name,\n";
  for (size_t i = 0; i < layers.size(); ++i) {
    const LayerReport& r = layers[i];
    out += fmt::format("{}, {:.0f}, {:.0f}, {:.4f}, {:.4f}, {:.4f}, {:.3f}, {},\n", i, r.total_cycles, r.stall_cycles,
                       100 * r.overall_util, 100 * r.mapping_efficiency, 100 * r.compute_util, r.seconds * 1e6, r.name);
  }
  return out;
}

std::string run_topology(const std::string& path, const ChipSpec& chip, TimingOptions options) {
  std::vector<LayerReport> reports;
  for (const TopologyLayer& layer : read_topology(path)) reports.push_back(run_gemm_layer(chip, layer, options));
  return topology_report(reports);
}

}  // namespace tessera::sim
