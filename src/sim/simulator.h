// The simulator: runs a program on a chip's memories. Each core's front end issues into the
// in-order queues of its DMA, Matrix and Vector engines; engines execute their queue heads,
// `wait` and `signal` order them through the core's semaphores, and `barrier` joins all cores.
//
// With a TimingModel the run is event-driven by cycle: every engine is free again at a cycle,
// an instruction starts at max(its engine free, the signal its `wait` consumed, the last
// barrier's release), the timing model says when it ends, and instructions take effect in
// order of their start cycle, so a correctly synchronised program computes the same values
// with timing on or off. Without one, every instruction takes no time and engines with work
// are served round-robin.
//
// A run never hangs: when no engine can progress before the program ends (deadlock), or more
// instructions than the watchdog allows have run, it stops with an Error naming the core, the
// engine, the instruction and why; runtime faults name them and the bad address.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "arch/chip.h"
#include "isa/isa.h"
#include "sim/memory.h"
#include "sim/timing.h"

namespace tessera::sim {

struct SimOptions {
  TimingModel* timing = nullptr;  // null: functional only
  std::vector<SimObserver*> observers;
  int64_t max_instructions = int64_t{1} << 40;  // watchdog: instructions run, all cores together
};

struct SimResult {
  double cycles = 0;   // when the last engine finished (0 without a timing model)
  double seconds = 0;  // cycles / clock
  // Instructions run, by the engine the instruction table gives each opcode (signal, wait and
  // barrier count as Scalar), indexed by isa::Engine.
  std::array<int64_t, 4> instructions{};
  int64_t total_instructions() const;
};

class Simulator {
 public:
  explicit Simulator(const arch::ChipSpec& chip);

  const arch::ChipSpec& chip() const { return chip_; }
  // The memories; they keep their contents from one run to the next.
  MachineMemory& memory() { return memory_; }

  SimResult run(const isa::Program& program, const SimOptions& options = {});

 private:
  arch::ChipSpec chip_;
  MachineMemory memory_;
};

}  // namespace tessera::sim
