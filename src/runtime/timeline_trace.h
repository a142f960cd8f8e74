// A Perfetto / Chrome trace of launches and copies placed on a device's timeline: the
// "traceEvents" JSON of sim/chrome_trace.h, times in microseconds from the device's start.
// Process 0 has a "kernels" track with one slice per launch, named by the kernel, and a
// "copies" track; process 1 + c is core c, with a track per engine and, on it, one slice per
// launch spanning that engine's first start to its last end in the launch, named by the kernel
// (args: instructions, busy and waiting microseconds).
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/timing.h"

namespace tessera::runtime {

class TimelineTrace : public sim::SimObserver {
 public:
  explicit TimelineTrace(const arch::ChipSpec& chip);

  // launch.cpp: before a launch's program runs, and when it has been placed on the timeline.
  void begin_launch();
  void end_launch(const std::string& name, double start_s, double program_start_s, double end_s);
  void add_copy(const std::string& direction, int64_t bytes, double start_s, double end_s);

  void on_instruction(const sim::IssuedInstruction& issued, const sim::Interval& interval) override;
  void on_blocked(int core, isa::Engine engine, double from_cycle, double to_cycle, bool barrier) override;

  int64_t launches() const { return launches_; }
  std::string json() const;
  void write(const std::string& path) const;  // atomically (base/atomic_file.h)

 private:
  // One engine's activity during the launch being run, in cycles from the program's start.
  struct Span {
    double first_cycle = -1, last_cycle = 0, busy_cycles = 0, waiting_cycles = 0;
    int64_t instructions = 0;
  };
  struct Slice {
    int pid = 0, tid = 0;
    std::string name;
    double start_us = 0, duration_us = 0;
    std::vector<std::pair<std::string, double>> args;
  };
  Span& span(int core, isa::Engine engine);

  int64_t cores_ = 0;
  double clock_hz_ = 0;
  int64_t launches_ = 0;
  std::vector<std::array<Span, 4>> spans_;  // per core, per isa::Engine
  std::vector<Slice> slices_;
};

}  // namespace tessera::runtime
