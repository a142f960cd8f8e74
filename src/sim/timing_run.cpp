// The timing-only run: a priority queue of engines by the cycle their next instruction could
// start; semaphores count signals, and a blocked `wait` parks its engine until a signal.
#include "sim/timing_run.h"

#include <algorithm>
#include <queue>
#include <tuple>

#include "base/error.h"

namespace tessera::sim {

namespace {

struct Ready {
  double cycle;
  int core, engine;
  bool operator>(const Ready& o) const { return std::tie(cycle, core, engine) > std::tie(o.cycle, o.core, o.engine); }
};

struct CoreState {
  EngineQueues queues;
  bool exhausted = false;
  std::array<int64_t, isa::kSemaphores> semaphores{};
  std::array<double, 3> parked_since{-1, -1, -1};  // >= 0 while the engine waits on a semaphore
  std::array<bool, 3> listed{};                     // the engine is in the ready queue
};

}  // namespace

double run_timing(TimingModel& model, int cores, const WorkSource& source, std::span<SimObserver* const> observers) {
  std::vector<CoreState> state(static_cast<size_t>(cores));
  std::priority_queue<Ready, std::vector<Ready>, std::greater<>> ready;
  auto list = [&](double cycle, int c, int e) {
    bool& listed = state[static_cast<size_t>(c)].listed[static_cast<size_t>(e)];
    if (!listed) ready.push({cycle, c, e});
    listed = true;
  };
  for (int c = 0; c < cores; ++c) {
    for (int e = 0; e < 3; ++e) list(0, c, e);
  }
  double last_cycle = 0;
  while (!ready.empty()) {
    Ready r = ready.top();
    ready.pop();
    CoreState& core = state[static_cast<size_t>(r.core)];
    core.listed[static_cast<size_t>(r.engine)] = false;
    std::deque<isa::Instruction>& queue = core.queues[static_cast<size_t>(r.engine)];
    while (queue.empty() && !core.exhausted) core.exhausted = !source(r.core, core.queues);
    if (queue.empty()) continue;  // this engine is done
    const isa::Instruction& inst = queue.front();
    isa::Engine engine = kQueuedEngines[static_cast<size_t>(r.engine)];
    if (inst.op == isa::Opcode::Signal || inst.op == isa::Opcode::Wait) {
      TS_ASSERT(inst.operands.at(0).value == static_cast<int64_t>(engine));
      int64_t& semaphore = core.semaphores.at(static_cast<size_t>(inst.operands.at(1).value));
      if (inst.op == isa::Opcode::Signal) {
        ++semaphore;
        for (int e = 0; e < 3; ++e) {  // wake the core's parked engines to look again
          if (core.parked_since[static_cast<size_t>(e)] >= 0) list(r.cycle, r.core, e);
        }
      } else if (semaphore == 0) {
        double& since = core.parked_since[static_cast<size_t>(r.engine)];
        if (since < 0) since = r.cycle;
        continue;  // parked until a signal of this core pushes it again
      } else {
        --semaphore;
        double& since = core.parked_since[static_cast<size_t>(r.engine)];
        if (since >= 0 && r.cycle > since) {
          for (SimObserver* o : observers) o->on_blocked(r.core, engine, since, r.cycle, false);
        }
        since = -1;
      }
      queue.pop_front();
      list(r.cycle, r.core, r.engine);
      continue;
    }
    IssuedInstruction issued{r.core, engine, inst};
    Interval interval = model.schedule(issued, r.cycle);
    for (SimObserver* o : observers) o->on_instruction(issued, interval);
    last_cycle = std::max(last_cycle, interval.end_cycle);
    queue.pop_front();
    list(interval.end_cycle, r.core, r.engine);
  }
  for (int c = 0; c < cores; ++c) {
    for (int e = 0; e < 3; ++e) {
      const std::deque<isa::Instruction>& queue = state[static_cast<size_t>(c)].queues[static_cast<size_t>(e)];
      if (queue.empty()) continue;
      fail("timing run: core {}'s {} queue waits forever on semaphore {} (no signal left to come)", c,
           isa::engine_name(kQueuedEngines[static_cast<size_t>(e)]), queue.front().operands.at(1).value);
    }
  }
  return last_cycle;
}

}  // namespace tessera::sim
