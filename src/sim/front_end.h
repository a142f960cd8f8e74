// A core's front end: reads the core's instruction stream in order, executes Scalar
// instructions itself (registers r0..r15, hardware loops) and issues everything else with
// its register operands resolved to values, stopping at a `barrier` until the simulator
// releases it.
#pragma once
#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "isa/isa.h"
#include "sim/timing.h"

namespace tessera::sim {

// The queues a front end issues into, one per engine that is not Scalar: DMA, Matrix, Vector.
inline constexpr int kEngineQueues = 3;
inline int queue_slot(isa::Engine engine) { return static_cast<int>(engine) - 1; }
inline isa::Engine queue_engine(int slot) { return static_cast<isa::Engine>(slot + 1); }

// "core 3 matrix, instruction 17 `mma spm[0x0], ...`": the place an error names.
std::string instruction_place(int core, const char* unit, int64_t index, const isa::Instruction& inst);

// Checks every instruction's operands against the table (count, kinds, ranges, semaphore
// numbers, loop counts) before anything runs; an Error names the core and the instruction.
void check_program(const isa::Program& program, int64_t chip_cores, const std::string& chip_name);

class FrontEnd {
 public:
  FrontEnd(int core, std::span<const isa::Instruction> stream)
      : core_(core), stream_(stream), state_(stream.empty() ? State::Done : State::Running) {}

  enum class State { Running, AtBarrier, Done };
  // What one step did: executed a Scalar instruction, issued one, or reached a barrier.
  struct Step {
    bool issued = false;  // then the instruction was written to step()'s `issued`
    int64_t index = 0;    // of the instruction in the stream
  };

  State state() const { return state_; }
  int64_t pc() const { return pc_; }
  // Executes or issues the instruction at the program counter; an issued one is written to
  // `issued` (its operand storage reused, so a caller that keeps one buffer allocates nothing).
  // State must be Running.
  Step step(IssuedInstruction& issued);
  // Continues after the barrier the front end stopped at.
  void release_barrier();

 private:
  struct LoopFrame {
    int64_t body = 0;       // index of the first instruction of the body
    int64_t remaining = 0;  // iterations left, this one included
  };
  void resolve(const isa::Instruction& inst, IssuedInstruction& issued) const;
  void advance();

  int core_;
  std::span<const isa::Instruction> stream_;
  State state_;
  int64_t pc_ = 0;
  std::array<int64_t, isa::kRegisters> regs_{};
  std::array<LoopFrame, isa::kMaxLoopDepth> loops_;  // the open ones: [0, depth_)
  int depth_ = 0;
};

}  // namespace tessera::sim
