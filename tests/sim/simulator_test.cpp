// The simulator loop: registers and loops, semaphores between engines, barriers across cores,
// the deadlock, watchdog and front-end error messages. (A GEMM program against references and
// with the timing model on and off: tests/compiler/gemm_program_test.cpp.)
#include <cmath>

#include "base/random.h"
#include "sim_test_util.h"

namespace tessera::sim::testing {
namespace {

using isa::Engine;

// Collects what the simulator reports.
struct Recorder : SimObserver {
  struct Blocked {
    int core;
    Engine engine;
    double from, to;
    bool barrier;
  };
  std::vector<IssuedInstruction> instructions;
  std::vector<Interval> intervals;
  std::vector<Blocked> blocked;
  void on_instruction(const IssuedInstruction& issued, const Interval& interval) override {
    instructions.push_back(issued);
    intervals.push_back(interval);
  }
  void on_blocked(int core, Engine engine, double from, double to, bool barrier) override {
    blocked.push_back({core, engine, from, to, barrier});
  }
};

int64_t count_of(const SimResult& r, Engine e) { return r.instructions[static_cast<size_t>(e)]; }

TEST(Simulator, NestedLoopsAdvanceAddressRegisters) {
  arch::ChipSpec chip = small_t1(1);
  Simulator sim(chip);
  // r1 = 32 i + 4 j for i < 3, j < 4: each iteration fills one f32 with 1 + r2 (r2 counts).
  std::vector<Instruction> stream = {li(1, 0), li(2, 0), loop(3), loop(4),
                                     vfill(spm(0x100, 1), 7.0f, 1, 1, DType::F32), addi(1, 1, 4), endloop(),
                                     addi(1, 1, 16), endloop()};
  SimResult result = sim.run(isa::Program{{stream}});
  std::vector<float> got = read<float>(sim.memory().spm(0), 0x100, 24), want(24, 0.0f);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) want[static_cast<size_t>(8 * i + j)] = 7.0f;
  EXPECT_EQ(got, want);
  // Front end: 2 li + outer loop + 3 x (inner loop + 4 x (addi + endloop) + addi + endloop).
  EXPECT_EQ(count_of(result, Engine::Scalar), 3 + 3 * (1 + 4 * 2 + 2));
  EXPECT_EQ(count_of(result, Engine::Vector), 12);
  EXPECT_EQ(result.cycles, 0);
}

// One core streams 6 tiles of 32 x 32 f32 through relu: the DMA engine loads into two input
// buffers and stores from two output buffers, the vector engine computes; semaphores order
// them (b = buffer): 0+b loaded, 2+b input free, 4+b output ready, 6+b output free.
isa::Program relu_stream_program(int64_t in_addr, int64_t out_addr) {
  const int64_t tile_bytes = 32 * 32 * 4;
  const int64_t in_buf[2] = {0x0, tile_bytes}, out_buf[2] = {2 * tile_bytes, 3 * tile_bytes};
  std::vector<Instruction> s = {signal(Engine::Vector, 2), signal(Engine::Vector, 3), signal(Engine::Dma, 6),
                                signal(Engine::Dma, 7),    li(1, in_addr),            li(2, out_addr),
                                loop(3)};
  for (int b = 0; b < 2; ++b) {
    std::vector<Instruction> body = {
        wait(Engine::Dma, 2 + b),
        dma(spm(in_buf[b]), hbm(0, 1), 32, 128, 128, 128),
        signal(Engine::Dma, 0 + b),
        addi(1, 1, tile_bytes),
        wait(Engine::Vector, 0 + b),
        wait(Engine::Vector, 6 + b),
        vunary(isa::UnaryFn::Relu, spm(out_buf[b]), spm(in_buf[b]), 32, 32, DType::F32),
        signal(Engine::Vector, 2 + b),
        signal(Engine::Vector, 4 + b),
        wait(Engine::Dma, 4 + b),
        dma(hbm(0, 2), spm(out_buf[b]), 32, 128, 128, 128),
        signal(Engine::Dma, 6 + b),
        addi(2, 2, tile_bytes)};
    s.insert(s.end(), body.begin(), body.end());
  }
  s.push_back(endloop());
  return isa::Program{{s}};
}

TEST(Simulator, SemaphoresOrderAProducerAndAConsumerWithTimingOnAndOff) {
  arch::ChipSpec chip = small_t1(1);
  std::vector<float> input(6 * 32 * 32);
  for (size_t i = 0; i < input.size(); ++i) input[i] = random_normal(1, i);
  std::vector<float> want(input.size());
  for (size_t i = 0; i < input.size(); ++i) want[i] = input[i] > 0 ? input[i] : 0.0f;

  for (bool timed : {false, true}) {
    SCOPED_TRACE(timed ? "timing on" : "timing off");
    Simulator sim(chip);
    write(sim.memory().hbm(), 0x10000, input);
    TimingModel timing(chip);
    Recorder recorder;
    SimOptions options;
    options.timing = timed ? &timing : nullptr;
    options.observers = {&recorder};
    SimResult result = sim.run(relu_stream_program(0x10000, 0x80000), options);
    EXPECT_EQ(read<float>(sim.memory().hbm(), 0x80000, want.size()), want);
    EXPECT_EQ(count_of(result, Engine::Dma), 12);
    EXPECT_EQ(count_of(result, Engine::Vector), 6);
    EXPECT_EQ(recorder.instructions.size(), 18u);
    if (!timed) {
      EXPECT_EQ(result.cycles, 0);
      continue;
    }
    EXPECT_GT(result.cycles, 0);
    EXPECT_DOUBLE_EQ(result.seconds, result.cycles / chip.clock_hz);
    // Each vunary starts no earlier than the end of the load it waited for.
    std::vector<double> load_end;
    for (size_t i = 0; i < recorder.instructions.size(); ++i) {
      const isa::Instruction& inst = recorder.instructions[i].inst;
      if (inst.op == Opcode::DmaCopy && inst.operands[0].addr.space == Space::Spm)
        load_end.push_back(recorder.intervals[i].end_cycle);
    }
    size_t tile = 0;
    for (size_t i = 0; i < recorder.instructions.size(); ++i) {
      if (recorder.instructions[i].inst.op == Opcode::VUnary) {
        EXPECT_GE(recorder.intervals[i].start_cycle, load_end.at(tile++));
      }
    }
    // The vector engine waited for the first load: a blocked interval from 0.
    ASSERT_FALSE(recorder.blocked.empty());
    EXPECT_EQ(recorder.blocked[0].engine, Engine::Vector);
    EXPECT_EQ(recorder.blocked[0].from, 0);
    EXPECT_EQ(recorder.blocked[0].to, load_end[0]);
    EXPECT_FALSE(recorder.blocked[0].barrier);
  }
}

TEST(Simulator, BarrierMakesOneCoresWritesVisibleToAnother) {
  arch::ChipSpec chip = small_t1(3);
  for (bool timed : {false, true}) {
    Simulator sim(chip);
    isa::Program program;
    program.cores = {
        {vfill(spm(0), 2.5f, 4, 4, DType::F32), signal(Engine::Vector, 0), wait(Engine::Dma, 0),
         dma(l2(0x400), spm(0), 1, 64, 64, 64), barrier()},
        {barrier(), dma(spm(0x80), l2(0x400), 1, 64, 64, 64), barrier()},
        {barrier(), barrier(), dma(spm(0x40), at(Space::Spm, 0x80, -1, 1), 1, 64, 64, 64)}};
    // Core 0 ends after one barrier: give it its second.
    program.cores[0].push_back(barrier());
    TimingModel timing(chip);
    Recorder recorder;
    SimOptions options;
    options.timing = timed ? &timing : nullptr;
    options.observers = {&recorder};
    SimResult result = sim.run(program, options);
    EXPECT_EQ(read<float>(sim.memory().spm(1), 0x80, 16), std::vector<float>(16, 2.5f));
    EXPECT_EQ(read<float>(sim.memory().spm(2), 0x40, 16), std::vector<float>(16, 2.5f));
    EXPECT_EQ(count_of(result, Engine::Scalar), 2 + 6);  // signal, wait and 6 barriers
    if (timed) {
      // Core 1's DMA starts when core 0's store has finished.
      ASSERT_EQ(recorder.instructions.size(), 4u);
      EXPECT_GE(recorder.intervals[2].start_cycle, recorder.intervals[1].end_cycle);
      bool barrier_wait = false;
      for (const Recorder::Blocked& b : recorder.blocked)
        barrier_wait |= b.barrier && b.core == 1 && b.engine == Engine::Dma && b.to == recorder.intervals[1].end_cycle;
      EXPECT_TRUE(barrier_wait);
    }
  }
}

TEST(Simulator, DeadlocksNameTheBlockedEnginesAndTheirInstructions) {
  arch::ChipSpec chip = small_t1(2);
  Simulator sim(chip);
  auto run = [&](isa::Program program) { return error_of([&] { sim.run(program); }); };
  EXPECT_EQ(run(isa::Program{{{li(1, 0), wait(Engine::Matrix, 3)}}}),
            "deadlock: core 0 matrix, instruction 1 `wait matrix, 3`: semaphore 3 is 0 and nothing left can signal it");
  // Each engine waits for the other's signal.
  EXPECT_EQ(run(isa::Program{{{wait(Engine::Dma, 0), signal(Engine::Dma, 1), wait(Engine::Vector, 1),
                               signal(Engine::Vector, 0)}}}),
            "deadlock: core 0 dma, instruction 0 `wait dma, 0`: semaphore 0 is 0 and nothing left can signal it; "
            "core 0 vector, instruction 2 `wait vector, 1`: semaphore 1 is 0 and nothing left can signal it");
  EXPECT_EQ(run(isa::Program{{{barrier()}, {li(1, 1)}}}),
            "deadlock: core 0 front end, instruction 0 `barrier`: core 1 finished without reaching a barrier");
  // A signal on another core's semaphore number does not help: semaphores are per core.
  EXPECT_EQ(run(isa::Program{{{wait(Engine::Dma, 5)}, {signal(Engine::Dma, 5)}}}),
            "deadlock: core 0 dma, instruction 0 `wait dma, 5`: semaphore 5 is 0 and nothing left can signal it");
}

TEST(Simulator, WatchdogStopsLongRuns) {
  arch::ChipSpec chip = small_t1(1);
  Simulator sim(chip);
  SimOptions options;
  options.max_instructions = 1000;
  EXPECT_EQ(error_of([&] { sim.run(isa::Program{{{li(1, 0), loop(1000000), addi(1, 1, 1), endloop()}}}, options); }),
            "watchdog: more than 1000 instructions run (the limit max_instructions); stopped at core 0 front end, "
            "instruction 2 `addi r1, r1, 1`");
  // A run of exactly the limit finishes.
  options.max_instructions = 2002;
  SimResult result = sim.run(isa::Program{{{li(1, 0), loop(1000), addi(1, 1, 1), endloop()}}}, options);
  EXPECT_EQ(result.total_instructions(), 2 + 2000);
}

TEST(Simulator, ProgramAndFrontEndErrorsNameTheInstruction) {
  arch::ChipSpec chip = small_t1(2);
  Simulator sim(chip);
  auto run = [&](std::vector<std::vector<Instruction>> cores) { return error_of([&] { sim.run(isa::Program{cores}); }); };
  EXPECT_EQ(run({{signal(Engine::Dma, 40)}}),
            "core 0 front end, instruction 0 `signal dma, 40`: semaphore 40 is outside 0..31");
  EXPECT_EQ(run({{loop(0), endloop()}}), "core 0 front end, instruction 0 `loop 0`: a loop runs at least once; count 0 < 1");
  EXPECT_EQ(run({{li(1, 2), endloop()}}), "core 0 front end, instruction 1 `endloop`: no loop is open");
  EXPECT_EQ(run({{loop(2), li(1, 2)}}), "core 0: the loop whose body starts at instruction 1 has no endloop");
  std::vector<Instruction> deep(9, loop(1));
  deep.insert(deep.end(), 9, endloop());
  EXPECT_EQ(run({deep}), "core 0 front end, instruction 8 `loop 1`: loops nest 8 deep at most");
  EXPECT_EQ(run({{}, {}, {}}), "the program has 3 core streams; chip t1 has 2 cores");
  EXPECT_EQ(run({{ins(Opcode::Li, {imm(1), imm(2)})}}),
            "core 0, instruction 0 `li`: operand 1 (rd): expected a register operand, found a integer");
  EXPECT_EQ(run({{ins(Opcode::Addi, {reg(1), reg(1)})}}), "core 0, instruction 0 `addi`: 2 operands, the instruction takes 3");
}

TEST(Simulator, RegistersResolveAtIssueTime) {
  // The address of each vfill is taken when it is issued, before later `li`s change r1.
  arch::ChipSpec chip = small_t1(1);
  Simulator sim(chip);
  Recorder recorder;
  SimOptions options;
  options.observers = {&recorder};
  sim.run(isa::Program{{{li(1, 0x40), vfill(spm(8, 1), 1.0f, 1, 1, DType::F32), li(1, 0x80),
                         vfill(spm(8, 1), 2.0f, 1, 1, DType::F32)}}},
          options);
  ASSERT_EQ(recorder.instructions.size(), 2u);
  EXPECT_EQ(recorder.instructions[0].inst.operands[0].addr.offset, 0x48);
  EXPECT_EQ(recorder.instructions[0].inst.operands[0].addr.reg, -1);
  EXPECT_EQ(recorder.instructions[1].inst.operands[0].addr.offset, 0x88);
  EXPECT_EQ(read<float>(sim.memory().spm(0), 0x48, 1)[0], 1.0f);
  EXPECT_EQ(read<float>(sim.memory().spm(0), 0x88, 1)[0], 2.0f);
}

}  // namespace
}  // namespace tessera::sim::testing
