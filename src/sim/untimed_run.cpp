// The untimed run (see untimed_run.h).
#include "sim/untimed_run.h"

#include <algorithm>
#include <array>
#include <exception>
#include <vector>

#include "base/error.h"
#include "sim/front_end.h"
#include "sim/functional.h"
#include "sim/host_threads.h"

namespace tessera::sim {

namespace {

// One core between two barriers: its front end, the instructions held behind a blocked `wait`
// per engine, and the signals not yet consumed per semaphore. Nothing is allocated unless a
// `wait` holds a queue, so that a launch of many cores costs no more than its instructions.
class CoreRun {
 public:
  CoreRun(int core, const std::vector<isa::Instruction>& stream, MachineMemory& memory, const arch::ChipSpec& chip)
      : core_(core), stream_(stream), front_(core, stream), memory_(memory), chip_(chip) {}

  FrontEnd& front() { return front_; }
  const SimResult& counts() const { return result_; }

  // Runs the front end to its next barrier or its end.
  void run_to_barrier() {
    while (front_.state() == FrontEnd::State::Running) {
      prefetch_next();
      isa::Opcode op = stream_[static_cast<size_t>(front_.pc())].op;
      ++result_.instructions[static_cast<size_t>(isa::opcode_info(op).engine)];
      FrontEnd::Step step = front_.step(issued_);
      if (!step.issued) continue;
      HeldQueue& queue = held_[static_cast<size_t>(queue_slot(issued_.engine))];
      if (!queue.empty() || blocked(issued_.inst))
        queue.push({issued_, step.index});
      else
        take_effect(issued_, step.index);
    }
    for (const HeldQueue& queue : held_)
      if (!queue.empty())
        fail("deadlock: {}: semaphore {} is 0 and nothing left can signal it", place(queue.front()),
             queue.front().issued.inst.operands[1].value);
  }

  // Runs to the next barrier, keeping an error to rethrow on the calling thread.
  void run_to_barrier_keeping_error() {
    try {
      run_to_barrier();
    } catch (...) {
      error_ = std::current_exception();
    }
  }
  const std::exception_ptr& error() const { return error_; }

 private:
  struct Held {
    IssuedInstruction issued;
    int64_t index = 0;
  };
  // A first-in first-out queue that allocates on its first push only. A popped item stays
  // where it is until the next push, so it can be executed after it left the queue.
  class HeldQueue {
   public:
    bool empty() const { return head_ == items_.size(); }
    const Held& front() const { return items_[head_]; }
    void push(const Held& held) {
      if (empty()) {
        items_.clear();
        head_ = 0;
      }
      items_.push_back(held);
    }
    void pop() { ++head_; }

   private:
    std::vector<Held> items_;
    size_t head_ = 0;
  };

  // Asks for the instruction kPrefetchAhead after the current one (its operands span several
  // cache lines) while the ones before it execute: a launch reads its program from memory that
  // the previous launches' data has pushed out of the caches.
  static constexpr size_t kPrefetchAhead = 3;
  void prefetch_next() const {
    auto next = static_cast<size_t>(front_.pc()) + kPrefetchAhead;
    if (next >= stream_.size()) return;
    const char* bytes = reinterpret_cast<const char*>(&stream_[next]);
    for (size_t line = 0; line < sizeof(isa::Instruction); line += 64) __builtin_prefetch(bytes + line);
  }

  std::string place(const Held& held) const {
    return instruction_place(core_, isa::engine_name(held.issued.engine), held.index, held.issued.inst);
  }

  // Whether `inst` is a `wait` whose semaphore is 0, which holds its queue.
  bool blocked(const isa::Instruction& inst) const {
    return inst.op == isa::Opcode::Wait && signals_[static_cast<size_t>(inst.operands[1].value)] == 0;
  }

  // Executes `issued`, which is not blocked.
  void take_effect(const IssuedInstruction& issued, int64_t index) {
    const isa::Instruction& inst = issued.inst;
    if (inst.op == isa::Opcode::Wait) {
      --signals_[static_cast<size_t>(inst.operands[1].value)];
      return;
    }
    if (inst.op == isa::Opcode::Signal) {
      ++signals_[static_cast<size_t>(inst.operands[1].value)];
      release_held();
      return;
    }
    try {
      execute(issued, memory_, chip_);
    } catch (const Fault& f) {
      fail("{}: {}", instruction_place(core_, isa::engine_name(issued.engine), index, inst), f.what());
    }
  }

  // Runs held instructions until every queue is empty or held by a `wait` still at 0.
  void release_held() {
    bool progress = true;
    while (progress) {
      progress = false;
      for (HeldQueue& queue : held_) {
        while (!queue.empty() && !blocked(queue.front().issued.inst)) {
          const Held& head = queue.front();
          queue.pop();
          take_effect(head.issued, head.index);
          progress = true;
        }
      }
    }
  }

  int core_;
  const std::vector<isa::Instruction>& stream_;
  FrontEnd front_;
  MachineMemory& memory_;
  const arch::ChipSpec& chip_;
  SimResult result_;  // instructions run
  IssuedInstruction issued_;  // reused: issuing allocates nothing
  std::array<HeldQueue, kEngineQueues> held_;
  std::array<int64_t, isa::kSemaphores> signals_{};
  std::exception_ptr error_;
};

// Runs every core to its next barrier, in parallel on the host's threads when `parallel` (the
// cores touch different bytes between barriers); the first error by core number is rethrown.
void run_to_barriers(std::vector<CoreRun>& cores, bool parallel) {
  if (parallel)
    run_on_host_threads(static_cast<int64_t>(cores.size()),
                        [&](int64_t c) { cores[static_cast<size_t>(c)].run_to_barrier_keeping_error(); });
  else
    for (CoreRun& core : cores) core.run_to_barrier_keeping_error();
  for (const CoreRun& core : cores)
    if (core.error()) std::rethrow_exception(core.error());
}

}  // namespace

SimResult run_untimed(const isa::Program& program, MachineMemory& memory, const arch::ChipSpec& chip,
                      bool parallel) {
  std::vector<CoreRun> cores;
  cores.reserve(program.cores.size());
  for (size_t c = 0; c < program.cores.size(); ++c)
    cores.emplace_back(static_cast<int>(c), program.cores[c], memory, chip);
  auto all_in = [&](FrontEnd::State state) {
    return std::all_of(cores.begin(), cores.end(), [&](CoreRun& c) { return c.front().state() == state; });
  };
  while (true) {
    run_to_barriers(cores, parallel);
    if (all_in(FrontEnd::State::Done)) break;
    if (!all_in(FrontEnd::State::AtBarrier)) {
      for (size_t c = 0; c < cores.size(); ++c)
        if (cores[c].front().state() == FrontEnd::State::Done)
          fail("deadlock: core {} finished without reaching a barrier that other cores wait at", c);
    }
    for (CoreRun& core : cores) core.front().release_barrier();
  }
  SimResult result;
  for (const CoreRun& core : cores)
    for (size_t e = 0; e < result.instructions.size(); ++e) result.instructions[e] += core.counts().instructions[e];
  return result;
}

}  // namespace tessera::sim
