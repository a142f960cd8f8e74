// The untimed run against the full simulation, and the launch cache that uses it: the
// compiler's GEMM (split K through the L2 included) and attention programs leave the same bytes
// in HBM run either way; a `wait` before its signal in the stream holds its queue; a deadlock
// is an error; a repeated launch takes its known time and computes the same values; kernel
// arguments change a launch's values but not its program; fingerprints tell programs apart.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include "base/random.h"
#include "common/error_text.h"
#include "compiler/attention_program.h"
#include "isa/assembler.h"
#include "runtime/launch.h"
#include "runtime_test_util.h"
#include "sim/program_fingerprint.h"
#include "sim/untimed_run.h"

namespace tessera::runtime::test {
namespace {

using tessera::testing::error_text;

// `words` f32 values on the bf16 grid (normal, seeded) written from HBM address 0.
void fill_hbm(sim::Simulator& simulator, int64_t words, uint64_t seed) {
  std::vector<float> values(static_cast<size_t>(words));
  for (size_t i = 0; i < values.size(); ++i) {
    float x = random_normal(seed, i);
    uint32_t bits;
    std::memcpy(&bits, &x, 4);
    bits &= 0xffff0000u;
    std::memcpy(&values[i], &bits, 4);
  }
  simulator.memory().hbm().write(0, values.data(), words * 4);
}

std::vector<uint8_t> hbm_bytes(sim::Simulator& simulator, int64_t bytes) {
  std::vector<uint8_t> out(static_cast<size_t>(bytes));
  simulator.memory().hbm().read(0, out.data(), bytes);
  return out;
}

// Runs `program` both ways on the same initial HBM and expects the same bytes and counts.
void expect_same_as_full_simulation(const arch::ChipSpec& chip, const isa::Program& program, int64_t hbm_words) {
  sim::Simulator full(chip), untimed(chip);
  fill_hbm(full, hbm_words, 7);
  fill_hbm(untimed, hbm_words, 7);
  sim::TimingModel timing(chip);
  sim::SimOptions options;
  options.timing = &timing;
  sim::SimResult a = full.run(program, options);
  sim::SimResult b = sim::run_untimed(program, untimed.memory(), chip);
  EXPECT_EQ(a.instructions, b.instructions);
  sim::Simulator untouched(chip);
  fill_hbm(untouched, hbm_words, 7);
  EXPECT_NE(hbm_bytes(full, hbm_words * 4), hbm_bytes(untouched, hbm_words * 4));  // the program wrote
  EXPECT_EQ(hbm_bytes(full, hbm_words * 4), hbm_bytes(untimed, hbm_words * 4));
}

compiler::GemmKernel gemm_kernel(int64_t batch, int64_t m, int64_t n, int64_t k, DType in, DType out) {
  compiler::GemmKernel g;
  g.batch = batch, g.m = m, g.n = n, g.k = k;
  g.a_dtype = g.b_dtype = in, g.out_dtype = out;
  g.batch_stride_a = m * k, g.batch_stride_b = k * n, g.batch_stride_out = m * n;
  return g;
}

TEST(UntimedRunTest, GemmProgramsLeaveTheSameBytesAsTheFullSimulation) {
  arch::ChipSpec t1 = arch::load_chip("t1", std::vector<std::string>{});
  arch::ChipSpec four_cores = arch::load_chip("t1", std::vector<std::string>{"cores=4"});
  compiler::GemmArgs args{0, 1 << 20, 2 << 20};
  struct Case {
    const arch::ChipSpec& chip;
    compiler::GemmKernel kernel;
    compiler::GemmLowerOptions options;
  };
  compiler::GemmLowerOptions split;
  split.tiling = compiler::GemmTiling{64, 64, 32, 2, 8, 4};  // K in 4 parts, summed through the L2
  compiler::GemmKernel accumulate = gemm_kernel(2, 100, 90, 250, DType::BF16, DType::BF16);
  accumulate.accumulate = accumulate.transpose_b = true;
  for (const Case& c : {Case{t1, gemm_kernel(1, 130, 70, 200, DType::F32, DType::F32), {}},
                        Case{four_cores, gemm_kernel(2, 100, 90, 250, DType::BF16, DType::F32), split},
                        Case{four_cores, accumulate, split}}) {
    SCOPED_TRACE(compiler::to_string(c.kernel));
    auto lowering = compiler::lower_gemm(c.kernel, c.chip, c.options);
    compiler::set_gemm_args(lowering->program, args);
    expect_same_as_full_simulation(c.chip, lowering->program, (3 << 20) / 4);
  }
}

TEST(UntimedRunTest, AttentionProgramsLeaveTheSameBytesAsTheFullSimulation) {
  arch::ChipSpec chip = arch::load_chip("t1", std::vector<std::string>{"cores=4"});
  for (DType dtype : {DType::F32, DType::BF16}) {
    compiler::AttentionProgram a;
    a.heads = 3, a.seq = 80, a.head_dim = 32, a.scale = 0.17f, a.dtype = dtype, a.max_block = 32;
    int64_t tensor = a.heads * a.seq * a.head_dim * static_cast<int64_t>(dtype_size(dtype));
    int64_t next = 0;
    auto place = [&](int64_t bytes) { return std::exchange(next, next + (bytes + 255) / 256 * 256); };
    a.q = place(tensor), a.k = place(tensor), a.v = place(tensor), a.out = place(tensor);
    a.lse = place(a.heads * a.seq * 4), a.dout = place(tensor), a.dq = place(tensor), a.dk = place(tensor);
    a.dv = place(tensor);
    a.scratch =
        place(std::max(compiler::attention_scratch_bytes(a, false), compiler::attention_scratch_bytes(a, true)));
    SCOPED_TRACE(dtype_name(dtype));
    expect_same_as_full_simulation(chip, compiler::attention_forward_program(chip, a), next / 4);
    expect_same_as_full_simulation(chip, compiler::attention_backward_program(chip, a), next / 4);
  }
}

TEST(UntimedRunTest, AWaitBeforeItsSignalInTheStreamHoldsItsQueue) {
  // The DMA queue waits for the matrix queue's signal, which comes later in the stream; the
  // copy behind the wait must see the value the vector engine writes after the signal.
  isa::Program program = isa::assemble(
      "wait dma, 3\n"
      "dma.copy hbm[0x100], spm[0x0], 1, 16, 16, 16\n"
      "vfill spm[0x0], 1.5, 1, 4, f32\n"
      "signal vector, 3\n",
      "w.s");
  arch::ChipSpec chip = small_t1();
  sim::Simulator full(chip), untimed(chip);
  full.run(program);
  sim::run_untimed(program, untimed.memory(), chip);
  float copied[4];
  untimed.memory().hbm().read(0x100, copied, 16);
  EXPECT_EQ(copied[3], 1.5f);
  EXPECT_EQ(hbm_bytes(full, 0x200), hbm_bytes(untimed, 0x200));
}

TEST(UntimedRunTest, ADeadlockIsAnError) {
  arch::ChipSpec chip = small_t1();
  sim::Simulator simulator(chip);
  EXPECT_EQ(error_text([&] { sim::run_untimed(isa::assemble("wait dma, 3\n", "d.s"), simulator.memory(), chip); }),
            "deadlock: core 0 dma, instruction 0 `wait dma, 3`: semaphore 3 is 0 and nothing left can signal it");
  EXPECT_EQ(error_text([&] {
              sim::run_untimed(isa::assemble(".core 0\nbarrier\n.core 1\nli r1, 2\n", "b.s"), simulator.memory(), chip);
            }),
            "deadlock: core 1 finished without reaching a barrier that other cores wait at");
}

TEST(LaunchCacheTest, ARepeatedProgramTakesItsKnownTimeAndComputesTheSameValues) {
  Device device("chip:t1", small_t1("64MiB"));
  isa::Program program = gemm_on(device, 128);  // A at 0, B after it, C after B (zeros)
  int64_t c = 2 * 128 * 128 * 2, c_bytes = 128 * 128 * 4;
  fill_hbm(device.simulator(), c / 4, 3);
  auto product = [&] {
    std::vector<uint8_t> out(static_cast<size_t>(c_bytes));
    device.simulator().memory().hbm().read(c, out.data(), c_bytes);
    std::vector<uint8_t> zeros(out.size());
    device.simulator().memory().hbm().write(c, zeros.data(), c_bytes);
    return out;
  };
  LaunchRecord first = launch(program, device.default_stream(), "gemm");
  std::vector<uint8_t> simulated = product();
  DeviceTotals once = device.totals();
  LaunchRecord second = launch(program, device.default_stream(), "gemm");
  EXPECT_EQ(device.launch_cache().size(), 1u);
  EXPECT_EQ(product(), simulated);
  EXPECT_NE(simulated, std::vector<uint8_t>(simulated.size()));  // a product was computed
  EXPECT_DOUBLE_EQ(second.program_seconds, first.program_seconds);
  DeviceTotals twice = device.totals();
  EXPECT_EQ(twice.hbm_bytes, 2 * once.hbm_bytes);
  EXPECT_DOUBLE_EQ(twice.matrix_flops, 2 * once.matrix_flops);

  device.launch_cache().set_enabled(false);
  LaunchRecord third = launch(program, device.default_stream(), "gemm");
  EXPECT_EQ(product(), simulated);
  EXPECT_DOUBLE_EQ(third.program_seconds, first.program_seconds);
}

TEST(LaunchCacheTest, KernelArgumentsChangeTheValuesNotTheProgram) {
  Device device("chip:t1", small_t1());
  isa::Program program = isa::assemble(".core 0\ndma.copy hbm[0x0], spm[0x100], 1, 4, 4, 4\n"
                                       ".core 1\ndma.copy hbm[0x40], spm[0x100], 1, 4, 4, 4\n", "k.s");
  for (float value : {2.5f, -3.25f}) {
    KernelArguments arguments{0x100, std::vector<uint8_t>(4)};
    std::memcpy(arguments.bytes.data(), &value, 4);
    launch(program, device.default_stream(), "k", arguments);
    float copied[2];
    device.simulator().memory().hbm().read(0x0, &copied[0], 4);
    device.simulator().memory().hbm().read(0x40, &copied[1], 4);
    EXPECT_EQ(copied[0], value);  // every core the program uses got them
    EXPECT_EQ(copied[1], value);
  }
  EXPECT_EQ(device.launch_cache().size(), 1u);
  int64_t spm = device.chip().scratchpad_bytes;
  EXPECT_EQ(error_text([&] { launch(program, device.default_stream(), "k", {spm - 2, std::vector<uint8_t>(4)}); }),
            fmt::format("launch of k: kernel arguments at spm[{:#x}, {:#x}) lie outside the {}-byte scratchpad",
                        spm - 2, spm + 2, spm));
}

TEST(LaunchCacheTest, TheFingerprintTellsProgramsApart) {
  isa::Program a = isa::assemble("li r1, 2\nvfill spm[0], 1.5, 1, 4, f32\n", "a.s");
  isa::Program b = isa::assemble("li r1, 2\nvfill spm[0], 1.5, 1, 8, f32\n", "b.s");
  isa::Program c = isa::assemble(".core 1\nli r1, 2\nvfill spm[0], 1.5, 1, 4, f32\n", "c.s");
  EXPECT_EQ(sim::fingerprint(a), sim::fingerprint(isa::assemble("li r1, 2\n\nvfill spm[0], 1.5, 1, 4, f32", "d.s")));
  EXPECT_NE(sim::fingerprint(a), sim::fingerprint(b));
  EXPECT_NE(sim::fingerprint(a), sim::fingerprint(c));
}

}  // namespace
}  // namespace tessera::runtime::test
