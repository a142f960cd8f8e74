// Run statistics and their summary table.
#include "sim/stats.h"

#include <algorithm>

#include "arch/chip_figures.h"
#include "base/error.h"

namespace tessera::sim {

Stats::Stats(const ChipSpec& chip)
    : chip_name_(chip.name),
      clock_hz_(chip.clock_hz),
      peak_flops_per_s_(arch::chip_figures(chip).bf16_flops_per_s),
      engines_(static_cast<size_t>(chip.cores)) {}

void Stats::on_instruction(const IssuedInstruction& issued, const Interval& interval) {
  EngineStats& e = engines_.at(static_cast<size_t>(issued.core))[static_cast<size_t>(issued.engine)];
  ++e.instructions;
  e.compute_cycles += interval.compute_cycles;
  e.memory_wait_cycles += interval.memory_wait_cycles;
  e.flops += interval.flops;
  for (int l = 0; l < kLevels; ++l) bytes_[static_cast<size_t>(l)] += interval.bytes[static_cast<size_t>(l)];
  end_cycle_ = std::max(end_cycle_, interval.end_cycle);
}

void Stats::on_blocked(int core, isa::Engine engine, double from_cycle, double to_cycle, bool barrier) {
  EngineStats& e = engines_.at(static_cast<size_t>(core))[static_cast<size_t>(engine)];
  (barrier ? e.barrier_wait_cycles : e.semaphore_wait_cycles) += to_cycle - from_cycle;
  end_cycle_ = std::max(end_cycle_, to_cycle);
}

const EngineStats& Stats::engine(int core, isa::Engine engine) const {
  return engines_.at(static_cast<size_t>(core))[static_cast<size_t>(engine)];
}

EngineStats Stats::total(isa::Engine engine) const {
  EngineStats sum;
  for (const auto& core : engines_) {
    const EngineStats& e = core[static_cast<size_t>(engine)];
    sum.instructions += e.instructions;
    sum.compute_cycles += e.compute_cycles;
    sum.memory_wait_cycles += e.memory_wait_cycles;
    sum.semaphore_wait_cycles += e.semaphore_wait_cycles;
    sum.barrier_wait_cycles += e.barrier_wait_cycles;
    sum.flops += e.flops;
  }
  return sum;
}

double Stats::flops() const {
  double sum = 0;
  for (int e = 0; e < kEngines; ++e) sum += total(static_cast<isa::Engine>(e)).flops;
  return sum;
}

double Stats::flops_per_s() const { return end_cycle_ > 0 ? flops() / seconds() : 0; }

double Stats::utilization(isa::Engine engine) const {
  if (end_cycle_ <= 0) return 0;
  return total(engine).compute_cycles / (static_cast<double>(engines_.size()) * end_cycle_);
}

std::string Stats::summary() const {
  std::string out = fmt::format("{}: {:.0f} cycles, {:.3f} us at {:.3g} GHz; {:.2f} TFLOPS achieved ({:.1f} % of the "
                                "{:.1f} bf16 peak)\n",
                                chip_name_, end_cycle_, seconds() * 1e6, clock_hz_ / 1e9, flops_per_s() / 1e12,
                                peak_flops_per_s_ > 0 ? 100 * flops_per_s() / peak_flops_per_s_ : 0.0,
                                peak_flops_per_s_ / 1e12);
  out += "engine   instructions  compute %  memory wait %  semaphore wait %  barrier wait %  idle %\n";
  double all = static_cast<double>(engines_.size()) * std::max(end_cycle_, 1.0);  // engine-cycles of the run
  for (isa::Engine engine : {isa::Engine::Dma, isa::Engine::Matrix, isa::Engine::Vector, isa::Engine::Scalar}) {
    EngineStats e = total(engine);
    double busy = e.compute_cycles + e.memory_wait_cycles + e.semaphore_wait_cycles + e.barrier_wait_cycles;
    if (engine == isa::Engine::Scalar && busy == 0) continue;  // the front end blocks only at barriers
    out += fmt::format("{:<8} {:>12} {:>10.1f} {:>14.1f} {:>17.1f} {:>15.1f} {:>7.1f}\n", isa::engine_name(engine),
                       e.instructions, 100 * e.compute_cycles / all, 100 * e.memory_wait_cycles / all,
                       100 * e.semaphore_wait_cycles / all, 100 * e.barrier_wait_cycles / all,
                       100 * std::max(0.0, all - busy) / all);
  }
  static const char* level_names[kLevels] = {"HBM", "L2", "scratchpad", "links"};
  out += "memory        bytes     GB/s\n";
  for (int l = 0; l < kLevels; ++l) {
    double b = static_cast<double>(bytes_[static_cast<size_t>(l)]);
    out += fmt::format("{:<10} {:>10.4g} {:>8.1f}\n", level_names[l], b, seconds() > 0 ? b / seconds() / 1e9 : 0.0);
  }
  return out;
}

}  // namespace tessera::sim
