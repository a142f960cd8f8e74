// Timing-only runs: engines overlap, `wait` blocks until a signal takes effect, a queue blocked
// forever is an Error; the tiled GEMM program in ideal-bandwidth mode is SCALE-Sim's count.
#include "sim/timing_run.h"

#include <gtest/gtest.h>

#include "sim/gemm_program.h"
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

TEST(TimingRun, IdealGemmProgramIsTheClosedForm) {
  for (const char* dataflow : {"os", "ws", "is"}) {
    arch::ChipSpec spec = chip("scalesim-16x16", {std::string("matrix.dataflow=") + dataflow});
    GemmProblem problem{{200, 72, 90}, DType::BF16, DType::F32};  // f32: no conversion step
    GemmTiling tiling = choose_gemm_tiling(spec, problem, true);
    EXPECT_EQ(tiling.m, 200);
    EXPECT_EQ(tiling.n, 72);
    EXPECT_EQ(tiling.k, 90);
    TimingModel model(spec, {true});
    double cycles = run_timing(model, 1, gemm_work(spec, problem, tiling), {});
    EXPECT_EQ(cycles, arch::systolic_cycles(problem.shape, 16, 16, spec.matrix.dataflow).cycles) << dataflow;
  }
}

TEST(TimingRun, TiledGemmOnManyCoresDoesEveryMacOnce) {
  arch::ChipSpec t1 = small_t1(4);
  GemmProblem problem{{300, 200, 500}, DType::BF16, DType::F32};
  GemmTiling tiling = choose_gemm_tiling(t1, problem, false);
  TimingModel model(t1);
  Stats stats(t1);
  SimObserver* observers[] = {&stats};
  double cycles = run_timing(model, 4, gemm_work(t1, problem, tiling), observers);
  EXPECT_EQ(stats.total(isa::Engine::Matrix).flops, 2.0 * 300 * 200 * 500);
  EXPECT_EQ(stats.total(isa::Engine::Vector).instructions, 0);  // f32 output: no conversion
  // Every element of a and b is read from HBM at least once, c written once.
  EXPECT_GE(stats.bytes(Level::Hbm), (300 * 500 + 500 * 200) * 2 + 300 * 200 * 4);
  // No faster than the matrix engines at peak.
  EXPECT_GT(cycles, 300.0 * 200 * 500 / (4 * 64 * 64));
}

TEST(TimingRun, F32OutputGemmWithManyKStepsPerTileRuns) {
  // The DMA engine stores an f32 tile straight from the accumulator; that store must come
  // before the loads of the next tile that wait for its mmas, or the program deadlocks.
  arch::ChipSpec t1 = chip("t1");
  GemmProblem problem{{8192, 3072, 768}, DType::BF16, DType::F32};
  GemmTiling tiling = choose_gemm_tiling(t1, problem, false);
  ASSERT_GT(problem.shape.k / tiling.k, 2);
  TimingModel model(t1);
  Stats stats(t1);
  SimObserver* observers[] = {&stats};
  double cycles = run_timing(model, static_cast<int>(t1.cores), gemm_work(t1, problem, tiling), observers);
  EXPECT_EQ(stats.total(isa::Engine::Matrix).flops, 2.0 * 8192 * 3072 * 768);
  EXPECT_GE(stats.bytes(Level::Hbm), 8192LL * 3072 * 4);  // c stored as f32
  // At least the matrix engines' time at peak, and within 25 % of the bf16-output GEMM's time.
  EXPECT_GT(cycles, 8192.0 * 3072 * 768 / (32 * 64 * 64));
  TimingModel bf16_model(t1);
  GemmProblem bf16 = problem;
  bf16.output = DType::BF16;
  double bf16_cycles = run_timing(bf16_model, static_cast<int>(t1.cores),
                                  gemm_work(t1, bf16, choose_gemm_tiling(t1, bf16, false)), {});
  EXPECT_LT(cycles, 1.25 * bf16_cycles);
}

TEST(TimingRun, TilesFitTheScratchpad) {
  arch::ChipSpec a100 = chip("a100");
  GemmProblem problem{{8192, 8192, 8192}, DType::F16, DType::F16};
  GemmTiling t = choose_gemm_tiling(a100, problem, false);
  int64_t bytes = 2 * (t.m * t.k + t.k * t.n) * 2 + t.m * t.n * 4 + t.m * t.n * 2;
  EXPECT_LE(bytes, a100.scratchpad_bytes);
  EXPECT_EQ(error_of([&] { choose_gemm_tiling(chip("a100", {"scratchpad.size=2KiB"}), problem, false); }),
            "GEMM 8192x8192x8192: no tile of 16x16x16 or more fits the 2048 byte scratchpad of chip a100");
}

}  // namespace
}  // namespace tessera::sim
