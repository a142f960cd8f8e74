// Timing-only runs: engines overlap, `wait` blocks until a signal takes effect, a queue blocked
// forever is an Error. (GEMM programs in timing-only runs: tests/compiler/gemm_timing_test.cpp.)
#include "sim/timing_run.h"

#include <gtest/gtest.h>

#include "sim/stats.h"
#include "timing_test_util.h"

namespace tessera::sim {
namespace {

using namespace testing;

// A source that hands out `queues` once, to core 0.
WorkSource once(EngineQueues queues) {
  auto given = std::make_shared<bool>(false);
  return [queues, given](int core, EngineQueues& q) {
    if (core != 0 || *given) return false;
    q = queues;
    *given = true;
    return true;
  };
}

class Recorder : public SimObserver {
 public:
  void on_instruction(const IssuedInstruction& issued, const Interval& interval) override {
    starts.push_back({issued.inst.op, interval.start_cycle});
  }
  void on_blocked(int core, isa::Engine engine, double from, double to, bool barrier) override {
    blocked.push_back({core, engine, from, to, barrier});
  }
  struct Blocked {
    int core;
    isa::Engine engine;
    double from, to;
    bool barrier;
  };
  std::vector<std::pair<isa::Opcode, double>> starts;
  std::vector<Blocked> blocked;
};

TEST(TimingRun, AWaitBlocksUntilTheSignalTakesEffect) {
  arch::ChipSpec t1 = chip("t1", {"cores=1"});
  EngineQueues q;
  q[0] = {dma(spm(0), hbm(0), 1, 65536, 65536, 65536), signal(isa::Engine::Dma, 3)};
  q[1] = {wait(isa::Engine::Matrix, 3), mma_of(64, 64, 64)};
  q[2] = {vfill(spm(1 << 20), 0, 64, 64, DType::F32)};  // independent: starts at 0
  TimingModel model(t1);
  Recorder recorder;
  SimObserver* observers[] = {&recorder};
  double end = run_timing(model, 1, once(q), observers);
  double dma_end = 65536.0 / 2500 + 800;
  ASSERT_EQ(recorder.starts.size(), 3u);
  for (auto [op, start] : recorder.starts) {
    double expected = op == isa::Opcode::Mma ? dma_end : 0;  // vfill and dma.copy start at once
    EXPECT_NEAR(start, expected, 1e-9) << isa::opcode_info(op).mnemonic;
  }
  ASSERT_EQ(recorder.blocked.size(), 1u);
  EXPECT_EQ(recorder.blocked[0].engine, isa::Engine::Matrix);
  EXPECT_EQ(recorder.blocked[0].from, 0);
  EXPECT_NEAR(recorder.blocked[0].to, dma_end, 1e-9);
  EXPECT_FALSE(recorder.blocked[0].barrier);
  // WS 64x64 array, 64x64x64: 2 * 64 + 64 + 64 - 2 - 1 = 253 cycles.
  EXPECT_NEAR(end, dma_end + 253, 1e-9);
}

TEST(TimingRun, AQueueBlockedForeverIsAnError) {
  arch::ChipSpec t1 = chip("t1", {"cores=1"});
  EngineQueues q;
  q[2] = {wait(isa::Engine::Vector, 7), vfill(spm(0), 0, 1, 1, DType::F32)};
  TimingModel model(t1);
  EXPECT_EQ(error_of([&] { run_timing(model, 1, once(q), {}); }),
            "timing run: core 0's vector queue waits forever on semaphore 7 (no signal left to come)");
}

}  // namespace
}  // namespace tessera::sim
