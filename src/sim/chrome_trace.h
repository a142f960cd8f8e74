// A Chrome trace of a simulated run, gathered as a SimObserver: the "traceEvents" JSON that
// chrome://tracing and Perfetto open, with one track per engine per core (pid = core, tid =
// engine), one "X" (complete) event per instruction named by its mnemonic with its operands as
// args, and one per blocked interval ("wait" or "barrier"); times in microseconds.
#pragma once
#include <string>
#include <vector>

#include "sim/timing.h"

namespace tessera::sim {

class ChromeTrace : public SimObserver {
 public:
  explicit ChromeTrace(const ChipSpec& chip);
  void on_instruction(const IssuedInstruction& issued, const Interval& interval) override;
  void on_blocked(int core, isa::Engine engine, double from_cycle, double to_cycle, bool barrier) override;

  std::string json() const;
  // Writes json() to `path` atomically (base/atomic_file.h).
  void write(const std::string& path) const;

 private:
  struct Event {
    IssuedInstruction issued;  // for a blocked interval: core and engine only
    double start_cycle = 0, end_cycle = 0;
    const char* blocked = nullptr;  // "wait" or "barrier" for a blocked interval
  };
  int64_t cores_ = 0;
  double clock_hz_ = 0;
  std::vector<Event> events_;
};

}  // namespace tessera::sim
