// Statistics of a simulated run, gathered as a SimObserver: cycles and seconds, per engine and
// core the time computing, waiting on memory and blocked on semaphores or barriers, achieved
// FLOP/s, bytes per memory level, utilisation; and a printable summary table.
#pragma once
#include <array>
#include <string>
#include <vector>

#include "sim/timing.h"

namespace tessera::sim {

struct EngineStats {
  int64_t instructions = 0;
  double compute_cycles = 0;         // the engine working
  double memory_wait_cycles = 0;     // stretched by a shared memory, link or the scratchpad
  double semaphore_wait_cycles = 0;  // blocked in a `wait`
  double barrier_wait_cycles = 0;    // blocked at a `barrier`
  double flops = 0;
};

inline constexpr int kEngines = 4;  // indexed by isa::Engine

class Stats : public SimObserver {
 public:
  explicit Stats(const ChipSpec& chip);
  void on_instruction(const IssuedInstruction& issued, const Interval& interval) override;
  void on_blocked(int core, isa::Engine engine, double from_cycle, double to_cycle, bool barrier) override;

  double cycles() const { return end_cycle_; }  // the last cycle anything ended
  double seconds() const { return end_cycle_ / clock_hz_; }
  double flops() const;
  double flops_per_s() const;  // achieved: flops / seconds
  int64_t bytes(Level level) const { return bytes_[static_cast<size_t>(level)]; }
  const EngineStats& engine(int core, isa::Engine engine) const;
  EngineStats total(isa::Engine engine) const;  // over all cores
  // Compute cycles of `engine` over all cores / (cores x cycles).
  double utilization(isa::Engine engine) const;
  std::string summary() const;

 private:
  std::string chip_name_;
  double clock_hz_ = 0, peak_flops_per_s_ = 0;
  std::vector<std::array<EngineStats, kEngines>> engines_;  // per core
  std::array<int64_t, kLevels> bytes_{};
  double end_cycle_ = 0;
};

}  // namespace tessera::sim
