// A timing-only run: per-core queues of DMA, Matrix and Vector instructions (with `signal` and
// `wait` placed on the queue of the engine they name), fed piece by piece and scheduled
// through a TimingModel in global time order, without computing any value. It serves the
// runs whose data does not matter (SCALE-Sim topologies, GEMM predictions) and whose size
// would make a functional run needlessly slow; its queues hold straight-line instructions only
// (operands absolute, no registers, loops or barriers).
//
// Contract: the queue of engine e holds instructions of engine e, or Signal/Wait naming e.
// A `wait` blocks its queue until the semaphore is positive (it counts signals that took
// effect, each at the end of what came before it on its queue); a run that ends with a queue
// blocked forever is an Error.
#pragma once
#include <array>
#include <deque>
#include <functional>
#include <span>

#include "sim/timing.h"

namespace tessera::sim {

// One core's queues, indexed by engine: 0 = DMA, 1 = Matrix, 2 = Vector.
using EngineQueues = std::array<std::deque<isa::Instruction>, 3>;
inline constexpr std::array<isa::Engine, 3> kQueuedEngines = {isa::Engine::Dma, isa::Engine::Matrix, isa::Engine::Vector};

// Appends the next piece of `core`'s work to its queues; returns false when the core has none
// left. Called whenever one of the core's queues runs empty.
using WorkSource = std::function<bool(int core, EngineQueues& queues)>;

// Runs `cores` cores' work through `model`, telling every observer; returns the cycle at which
// the last instruction ends.
double run_timing(TimingModel& model, int cores, const WorkSource& source, std::span<SimObserver* const> observers);

}  // namespace tessera::sim
