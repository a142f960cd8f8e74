// The chip's causal attention beyond the kernel harness: several q/k blocks with a short last
// one (T = 200), several batches and heads, f32 and bf16 operands, gradients, against cpu-ref
// on the bf16 roundings of the inputs; the simulated time grows faster than linearly in T (T^2
// block pairs); a head dimension too large for the scratchpad is refused.
#include "backends/chip/chip_backend.h"

#include "base/error.h"
#include "compiler/attention_program.h"
#include "kernel_harness.h"
#include "sim/simulator.h"

namespace tessera::test {
namespace {

ChipBackend& t1() { return *chip_backend("chip:t1"); }

// Forward and backward of (B, H, T, D) inputs in `dtype`: out, lse, dq, dk, dv as f32.
std::vector<std::vector<float>> attention_results(Backend& device, DType dtype, const Shape& shape,
                                                  const std::vector<std::vector<float>>& qkv_dout) {
  Workspace ws(device);
  Shape lse_shape = {shape[0], shape[1], shape[2]};
  float scale = 1.0f / std::sqrt(static_cast<float>(shape[3]));
  View q = ws.input(dtype, shape, qkv_dout[0]), k = ws.input(dtype, shape, qkv_dout[1]);
  View v = ws.input(dtype, shape, qkv_dout[2]), dout = ws.input(dtype, shape, qkv_dout[3]);
  View out = ws.output(dtype, shape), lse = ws.output(DType::F32, lse_shape);
  View dq = ws.output(dtype, shape), dk = ws.output(dtype, shape), dv = ws.output(dtype, shape);
  device.attention(q, k, v, out, lse, scale);
  device.attention_backward(q, k, v, out, lse, dout, dq, dk, dv, scale);
  ws.expect_intact("attention " + shape_label(shape, dtype));
  return {ws.read(out), ws.read(lse), ws.read(dq), ws.read(dk), ws.read(dv)};
}

std::vector<std::vector<float>> inputs(const Shape& shape, uint64_t seed) {
  std::vector<std::vector<float>> x;
  for (uint64_t i = 0; i < 4; ++i) x.push_back(random_values(static_cast<size_t>(numel(shape)), seed + i));
  return x;
}

const char* kNames[] = {"out", "lse", "dq", "dk", "dv"};

TEST(ChipAttentionTest, ManyBlocksHeadsAndBatchesMatchCpuRefOnBf16RoundedInputs) {
  // T = 200: blocks of 64 rows and a last one of 8; 2 x 3 heads over the cores.
  const Shape shape = {2, 3, 200, 32};
  std::vector<std::vector<float>> x = inputs(shape, 90), x_bf16;
  for (const auto& values : x) x_bf16.push_back(rounded(values, DType::BF16));
  std::vector<std::vector<float>> expected = attention_results(backend("cpu-ref"), DType::F32, shape, x_bf16);
  // f32 operands: rounded to bf16 on the chip. P and dS go through bf16 into the matrix
  // engine (2^-9 relative each): out within 2^-8 of max |v| = 1 plus f32 rounding, gradients
  // (sums of up to T terms, |dq|, |dk|, |dv| up to about 5 here) within 1e-2.
  const Tolerance tolerances[] = {{5e-3, 1e-3}, {1e-4, 1e-5}, {1e-2, 1e-2}, {1e-2, 1e-2}, {1e-2, 1e-2}};
  std::vector<std::vector<float>> chip = attention_results(t1(), DType::F32, shape, x);
  for (size_t i = 0; i < chip.size(); ++i)
    expect_close(chip[i], expected[i], tolerances[i], std::string("f32 operands, ") + kNames[i]);
  // bf16 operands (autocast), results stored as bf16: one more bf16 rounding.
  std::vector<std::vector<float>> expected_bf16 = attention_results(backend("cpu-ref"), DType::BF16, shape, x);
  std::vector<std::vector<float>> chip_bf16 = attention_results(t1(), DType::BF16, shape, x);
  for (size_t i = 0; i < chip_bf16.size(); ++i)
    expect_close(chip_bf16[i], expected_bf16[i], plus_abs(storage_tolerance(DType::BF16), tolerances[i].abs),
                 std::string("bf16 operands, ") + kNames[i]);
}

TEST(ChipAttentionTest, SimulatedTimeGrowsWithTheSquareOfTheSequence) {
  // The programs themselves, in blocks of 64 rows over 32 heads that keep the 32 cores of t1
  // busy. The time is a T^2 term (block pairs: 36 -> 136 per head from T = 512 to 1024) plus
  // a T term (per job: the q-block's load and the output stores, each DMA copy paying the HBM
  // latency; the preparation pass), so it grows by more than the 2x of linear work and less
  // than 4x (2.77x when written).
  const arch::ChipSpec& chip = t1().chip();
  sim::Simulator simulator(chip);
  auto seconds = [&](int64_t seq) {
    compiler::AttentionProgram a;
    a.heads = 32, a.seq = seq, a.head_dim = 64, a.scale = 0.125f, a.dtype = DType::BF16, a.max_block = 64;
    int64_t array = a.heads * seq * a.head_dim * 2, next = 0;
    for (int64_t* addr : {&a.q, &a.k, &a.v, &a.out, &a.dout, &a.dq, &a.dk, &a.dv}) *addr = next, next += array;
    a.lse = next, a.scratch = next + a.heads * seq * 4;
    double total = 0;
    for (const isa::Program& program :
         {compiler::attention_forward_program(chip, a), compiler::attention_backward_program(chip, a)}) {
      sim::TimingModel timing(chip);
      sim::SimOptions options;
      options.timing = &timing;
      total += simulator.run(program, options).seconds;
    }
    return total;
  };
  double short_run = seconds(512), long_run = seconds(1024);
  EXPECT_GT(long_run / short_run, 2.5) << short_run << " s vs " << long_run << " s";
  EXPECT_LT(long_run / short_run, 4.0) << short_run << " s vs " << long_run << " s";
}

TEST(ChipAttentionTest, AHeadDimensionBeyondTheScratchpadIsRefused) {
  ChipBackend& a100 = *chip_backend("chip:a100");
  Workspace ws(a100);
  Shape shape = {1, 1, 8, 1024};
  std::vector<float> zeros(static_cast<size_t>(numel(shape)));
  View q = ws.input(DType::F32, shape, zeros), out = ws.output(DType::F32, shape);
  View lse = ws.output(DType::F32, {1, 1, 8});
  try {
    a100.attention(q, q, q, out, lse, 1.0f);
    ADD_FAILURE() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("chip a100: attention with head dimension 1024 does not fit its"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace tessera::test
