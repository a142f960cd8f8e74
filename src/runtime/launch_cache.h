// What a device remembers of the programs it has run, by fingerprint (sim/program_fingerprint.h):
// the timing model's result and statistics.
//
// A program's timing depends on the program alone: no instruction loads a register from
// memory, so its addresses, sizes and control flow are in its text, and the timing model looks
// at nothing else. A launch of a program seen before therefore takes its time from here and
// computes its values by the untimed run (sim/untimed_run.h), without the event loop and the
// timing model; training repeats the same few hundred programs every step. Launches under a
// trace run in full.
#pragma once
#include <cstddef>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "sim/program_fingerprint.h"
#include "sim/simulator.h"
#include "sim/stats.h"

namespace tessera::runtime {

class LaunchCache {
 public:
  struct Entry {
    sim::SimResult result;
    sim::Stats stats;
  };

  // Null when unknown, and while disabled.
  std::shared_ptr<const Entry> find(const sim::ProgramFingerprint& key) const;
  void insert(const sim::ProgramFingerprint& key, std::shared_ptr<const Entry> entry);
  size_t size() const;
  // Disabled, every launch runs the full simulation (tests compare the two; enabled at first).
  void set_enabled(bool enabled);

 private:
  // Beyond this many programs (a run whose shapes keep changing) the cache starts again.
  static constexpr size_t kMaxEntries = 4096;
  mutable std::mutex mutex_;
  bool enabled_ = true;
  std::unordered_map<sim::ProgramFingerprint, std::shared_ptr<const Entry>, sim::ProgramFingerprintHash> entries_;
};

}  // namespace tessera::runtime
