// The untimed run: a program's functional effects without the event loop or the timing model.
// The cores run from barrier to barrier, in parallel on the host's threads (OpenMP) when the
// caller says the program's work is worth waking them. Within a core, every instruction
// the front end issues takes effect at once, unless its engine's queue is held by a `wait`
// whose semaphore is still 0; then it queues behind that wait until a `signal` releases it.
//
// That is one of the schedules the simulator may take, so for a race-free program (every two
// accesses to the same bytes, one a write, ordered by an engine queue, a semaphore or a
// barrier) it computes exactly what Simulator::run computes, in a fraction of the host time.
// The runtime uses it to repeat a program whose timing it already knows
// (runtime/launch_cache.h).
#pragma once
#include "arch/chip.h"
#include "isa/isa.h"
#include "sim/memory.h"
#include "sim/simulator.h"

namespace tessera::sim {

// Runs `program` (which has passed check_program) on `memory`. Returns the instructions run
// per engine (cycles 0). A fault is an Error naming the core, engine and instruction, as
// Simulator::run names it; so is a deadlock (a `wait` that nothing left can release).
SimResult run_untimed(const isa::Program& program, MachineMemory& memory, const arch::ChipSpec& chip,
                      bool parallel = true);

}  // namespace tessera::sim
