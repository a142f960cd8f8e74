// The simulator loop (see simulator.h): front ends fill engine queues a bounded distance
// ahead; the engine whose head can start earliest runs it (ties: round-robin); barriers
// release when every core has reached one and every queue has drained.
#include "sim/simulator.h"

#include <algorithm>
#include <deque>
#include <limits>
#include <optional>
#include <set>

#include "base/error.h"
#include "sim/front_end.h"
#include "sim/functional.h"

namespace tessera::sim {

namespace {

// Instructions a front end queues ahead of its engines before it waits for them; it queues
// more when nothing else can progress.
constexpr int64_t kLookahead = 1024;

struct Queued {
  IssuedInstruction issued;
  int64_t index = 0;  // in the core's stream
};

struct EngineState {
  std::deque<Queued> queue;
  double free_cycle = 0;
};

struct CoreState {
  explicit CoreState(int core, std::span<const isa::Instruction> stream) : front(core, stream) {}
  FrontEnd front;
  std::array<EngineState, kEngineQueues> engines;
  // Per semaphore, the cycles at which its pending (not yet consumed) signals took effect.
  std::array<std::multiset<double>, isa::kSemaphores> signals;
  int64_t queued = 0;
};

class Run {
 public:
  Run(const isa::Program& program, const arch::ChipSpec& chip, MachineMemory& memory, const SimOptions& options)
      : program_(program), chip_(chip), memory_(memory), options_(options) {
    for (size_t c = 0; c < program.cores.size(); ++c) cores_.emplace_back(static_cast<int>(c), program.cores[c]);
  }

  SimResult run();

 private:
  bool issue(int core, bool beyond_lookahead);
  std::optional<double> ready_cycle(int core, int slot) const;
  // Recomputes ready_ for the engines of `core`, after its queues, engines or semaphores changed.
  void refresh(int core);
  // The engine (core * kEngineQueues + slot) whose head can start first, ties going round-robin
  // from next_; -1 when none can start.
  int earliest() const;
  void execute_head(int core, int slot, double start);
  bool release_barrier();
  [[noreturn]] void deadlock() const;
  // Counts `inst`; past the watchdog's limit, an Error naming `place()`.
  template <typename Place>
  void count(const isa::Instruction& inst, Place&& place);

  const isa::Program& program_;
  const arch::ChipSpec& chip_;
  MachineMemory& memory_;
  const SimOptions& options_;
  std::deque<CoreState> cores_;
  SimResult result_;
  int64_t executed_ = 0;
  int next_ = 0;  // round-robin position among engines
  // Per engine, ready_cycle(core, slot), or kNever when it is nothing. Only the core that ran an
  // instruction or queued one changes, so only its entries are recomputed.
  static constexpr double kNever = std::numeric_limits<double>::infinity();
  std::vector<double> ready_;
};

template <typename Place>
void Run::count(const isa::Instruction& inst, Place&& place) {
  if (++executed_ > options_.max_instructions)
    fail("watchdog: more than {} instructions run (the limit max_instructions); stopped at {}",
         options_.max_instructions, place());
  ++result_.instructions[static_cast<size_t>(isa::opcode_info(inst.op).engine)];
}

// Runs the front end of `core` until each of its queues holds work or it has queued
// kLookahead instructions; `beyond_lookahead` lifts that limit until a queue that was empty
// receives one. Returns whether it queued anything.
bool Run::issue(int core, bool beyond_lookahead) {
  CoreState& cs = cores_[static_cast<size_t>(core)];
  bool queued = false;
  auto all_busy = [&] {
    return std::all_of(cs.engines.begin(), cs.engines.end(), [](const EngineState& e) { return !e.queue.empty(); });
  };
  while (cs.front.state() == FrontEnd::State::Running && !all_busy()) {
    if (!beyond_lookahead && cs.queued >= kLookahead) break;
    const isa::Instruction& inst = program_.cores[static_cast<size_t>(core)][static_cast<size_t>(cs.front.pc())];
    if (isa::opcode_info(inst.op).engine == isa::Engine::Scalar && inst.op != isa::Opcode::Signal &&
        inst.op != isa::Opcode::Wait)
      count(inst, [&] { return instruction_place(core, "front end", cs.front.pc(), inst); });
    IssuedInstruction issued;
    FrontEnd::Step step = cs.front.step(issued);
    if (!step.issued) continue;
    EngineState& engine = cs.engines[static_cast<size_t>(queue_slot(issued.engine))];
    bool was_empty = engine.queue.empty();
    engine.queue.push_back({std::move(issued), step.index});
    ++cs.queued;
    queued = true;
    if (beyond_lookahead && was_empty) break;
  }
  return queued;
}

// The cycle at which the head of the queue could start, or nothing when the queue is empty or
// its head waits on a semaphore no signal has reached.
std::optional<double> Run::ready_cycle(int core, int slot) const {
  const CoreState& cs = cores_[static_cast<size_t>(core)];
  const EngineState& engine = cs.engines[static_cast<size_t>(slot)];
  if (engine.queue.empty()) return std::nullopt;
  const isa::Instruction& inst = engine.queue.front().issued.inst;
  if (inst.op != isa::Opcode::Wait) return engine.free_cycle;
  const std::multiset<double>& pending = cs.signals[static_cast<size_t>(inst.operands[1].value)];
  if (pending.empty()) return std::nullopt;
  return std::max(engine.free_cycle, *pending.begin());
}

void Run::execute_head(int core, int slot, double start) {
  CoreState& cs = cores_[static_cast<size_t>(core)];
  EngineState& engine = cs.engines[static_cast<size_t>(slot)];
  Queued head = std::move(engine.queue.front());
  engine.queue.pop_front();
  --cs.queued;
  const isa::Instruction& inst = head.issued.inst;
  isa::Engine name = queue_engine(slot);
  auto place = [&] { return instruction_place(core, isa::engine_name(name), head.index, inst); };
  count(inst, place);

  if (inst.op == isa::Opcode::Signal) {
    cs.signals[static_cast<size_t>(inst.operands[1].value)].insert(start);
    engine.free_cycle = start;
    return;
  }
  if (inst.op == isa::Opcode::Wait) {
    std::multiset<double>& pending = cs.signals[static_cast<size_t>(inst.operands[1].value)];
    pending.erase(pending.begin());
    if (start > engine.free_cycle)
      for (SimObserver* o : options_.observers) o->on_blocked(core, name, engine.free_cycle, start, false);
    engine.free_cycle = start;
    return;
  }
  try {
    execute(head.issued, memory_, chip_);
  } catch (const Fault& f) {
    fail("{}: {}", place(), f.what());
  }
  Interval interval;
  interval.start_cycle = interval.end_cycle = start;
  if (options_.timing) interval = options_.timing->schedule(head.issued, start);
  TS_ASSERT(interval.end_cycle >= start);
  engine.free_cycle = interval.end_cycle;
  for (SimObserver* o : options_.observers) o->on_instruction(head.issued, interval);
}

void Run::refresh(int core) {
  for (int s = 0; s < kEngineQueues; ++s)
    ready_[static_cast<size_t>(core * kEngineQueues + s)] = ready_cycle(core, s).value_or(kNever);
}

int Run::earliest() const {
  int best = -1;
  double best_cycle = kNever;
  auto scan = [&](int from, int to) {
    for (int e = from; e < to; ++e)
      if (ready_[static_cast<size_t>(e)] < best_cycle) best = e, best_cycle = ready_[static_cast<size_t>(e)];
  };
  scan(next_, static_cast<int>(ready_.size()));
  scan(0, next_);
  return best;
}

// When every front end has stopped at a barrier (and every queue is empty): releases them
// all at the cycle the last engine finished. Returns false when a core has finished instead.
bool Run::release_barrier() {
  double release = 0;
  for (const CoreState& cs : cores_) {
    if (cs.front.state() != FrontEnd::State::AtBarrier) return false;
    for (const EngineState& e : cs.engines) release = std::max(release, e.free_cycle);
  }
  for (size_t c = 0; c < cores_.size(); ++c) {
    for (int s = 0; s < kEngineQueues; ++s) {
      EngineState& e = cores_[c].engines[static_cast<size_t>(s)];
      if (release > e.free_cycle)
        for (SimObserver* o : options_.observers)
          o->on_blocked(static_cast<int>(c), queue_engine(s), e.free_cycle, release, true);
      e.free_cycle = release;
    }
    cores_[c].front.release_barrier();
  }
  return true;
}

void Run::deadlock() const {
  std::string why;
  auto add = [&](const std::string& text) { why += (why.empty() ? "" : "; ") + text; };
  std::vector<int> finished;
  for (size_t c = 0; c < cores_.size(); ++c)
    if (cores_[c].front.state() == FrontEnd::State::Done) finished.push_back(static_cast<int>(c));
  for (size_t c = 0; c < cores_.size(); ++c) {
    const CoreState& cs = cores_[c];
    int core = static_cast<int>(c);
    for (int s = 0; s < kEngineQueues; ++s) {
      const EngineState& e = cs.engines[static_cast<size_t>(s)];
      if (e.queue.empty()) continue;
      const Queued& head = e.queue.front();
      add(fmt::format("{}: semaphore {} is 0 and nothing left can signal it",
                      instruction_place(core, isa::engine_name(queue_engine(s)), head.index, head.issued.inst),
                      head.issued.inst.operands[1].value));
    }
    if (cs.front.state() == FrontEnd::State::AtBarrier) {
      const isa::Instruction& inst = program_.cores[c][static_cast<size_t>(cs.front.pc())];
      std::string place = instruction_place(core, "front end", cs.front.pc(), inst);
      if (!finished.empty())
        add(fmt::format("{}: core {} finished without reaching a barrier", place, finished.front()));
      else
        add(fmt::format("{}: waits for engines that cannot finish", place));
    }
  }
  fail("deadlock: {}", why);
}

SimResult Run::run() {
  int cores = static_cast<int>(cores_.size()), engines = cores * kEngineQueues;
  ready_.assign(static_cast<size_t>(engines), kNever);
  // The front ends that may queue more: every core at first and after a barrier or a queue
  // beyond the lookahead, else the core whose engine last ran (no other core changed).
  int changed = 0;
  bool all_changed = true;
  while (true) {
    if (all_changed) {
      for (int c = 0; c < cores; ++c)
        if (issue(c, false)) refresh(c);
    } else if (issue(changed, false)) {
      refresh(changed);
    }
    all_changed = false;
    int best = earliest();
    if (best >= 0) {
      changed = best / kEngineQueues;
      execute_head(changed, best % kEngineQueues, ready_[static_cast<size_t>(best)]);
      refresh(changed);
      next_ = (best + 1) % engines;
      continue;
    }
    all_changed = true;
    bool queued = false;
    for (int c = 0; c < cores; ++c)
      if (issue(c, true)) refresh(c), queued = true;
    if (queued) continue;
    // No engine can start and no front end can issue: every front end has finished or waits
    // at a barrier, and the queues left hold only blocked waits.
    bool drained = std::all_of(cores_.begin(), cores_.end(), [](const CoreState& cs) { return cs.queued == 0; });
    bool all_done = std::all_of(cores_.begin(), cores_.end(),
                                [](const CoreState& cs) { return cs.front.state() == FrontEnd::State::Done; });
    if (drained && all_done) break;
    if (drained && release_barrier()) {
      for (int c = 0; c < cores; ++c) refresh(c);
      continue;
    }
    deadlock();
  }
  for (const CoreState& cs : cores_)
    for (const EngineState& e : cs.engines) result_.cycles = std::max(result_.cycles, e.free_cycle);
  result_.seconds = result_.cycles / chip_.clock_hz;
  return result_;
}

}  // namespace

int64_t SimResult::total_instructions() const {
  int64_t total = 0;
  for (int64_t n : instructions) total += n;
  return total;
}

Simulator::Simulator(const arch::ChipSpec& chip) : chip_(chip), memory_(chip_) {}

SimResult Simulator::run(const isa::Program& program, const SimOptions& options) {
  check_program(program, chip_.cores, chip_.name);
  return Run(program, chip_, memory_, options).run();
}

}  // namespace tessera::sim
