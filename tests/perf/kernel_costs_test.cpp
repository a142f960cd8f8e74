// The kernel cost model: GEMMs through the timing model near the chips' peaks (t1 by design,
// the h20 as measured on real H20s), memory-bound kernels at bytes / HBM bandwidth, vector-
// bound ones at the vector peak (multi-tensor kernels over all their tensors), the launch
// overhead on every kernel, split-K for GEMMs with few output tiles, causal attention's block
// pairs, and the GEMM cache.
#include <gtest/gtest.h>

#include "arch/chip_figures.h"
#include "arch/chip_loader.h"
#include "perf/attention_cost.h"
#include "base/error.h"
#include "compiler/gemm_timing.h"
#include "perf/kernel_costs.h"

namespace tessera::perf {
namespace {

KernelOperand operand(Shape shape, DType dtype, Access access = Access::Read) {
  Strides strides = contiguous_strides(shape);
  return {true, dtype, std::move(shape), std::move(strides), access};
}

KernelCall gemm_call(int64_t m, int64_t n, int64_t k, int64_t batch = 1) {
  KernelCall c;
  c.kernel = Kernel::Matmul;
  c.operands = {operand({batch, m, k}, DType::BF16), operand({k, n}, DType::BF16),
                operand({batch, m, n}, DType::BF16, Access::Write)};
  c.matmul.batch = batch;
  c.matmul.m = m, c.matmul.n = n, c.matmul.k = k;
  c.matmul.batch_stride_a = batch > 1 ? m * k : 0;
  c.matmul.batch_stride_out = batch > 1 ? m * n : 0;
  return c;
}

KernelCall add_call(int64_t n) {
  KernelCall c;
  c.kernel = Kernel::Binary;
  c.op = static_cast<int>(BinaryOp::Add);
  c.operands = {operand({n}, DType::F32), operand({n}, DType::F32), operand({n}, DType::F32, Access::Write)};
  return c;
}

double peak(const arch::ChipSpec& chip) { return arch::chip_figures(chip).bf16_flops_per_s; }

TEST(KernelCosts, BigGemmOnT1ApproachesItsPeak) {
  arch::ChipSpec t1 = arch::load_chip("t1");
  KernelCostModel model(t1);
  KernelCost c = model.cost(gemm_call(4096, 4096, 4096));
  EXPECT_DOUBLE_EQ(c.flops, 2.0 * 4096 * 4096 * 4096);
  double fraction = c.flops / c.seconds / peak(t1);
  EXPECT_GT(fraction, 0.85);
  EXPECT_LE(fraction, 1.0);
  EXPECT_TRUE(c.compute_bound);
}

TEST(KernelCosts, LargeH20GemmMatchesTheMeasuredShareOfPeak) {
  // Real H20s reach 136.4-137.8 of 148 TFLOPS (92-93 %) on large bf16 GEMMs.
  arch::ChipSpec h20 = arch::load_chip("h20");
  KernelCostModel model(h20);
  KernelCost c = model.cost(gemm_call(4096, 4096, 4096));
  double fraction = c.flops / c.seconds / peak(h20);
  EXPECT_GT(fraction, 0.90);
  EXPECT_LT(fraction, 0.95);
}

TEST(KernelCosts, LargeH100GemmIsNearTheMeasuredShareOfPeak) {
  // Real H100 SXMs reach 794.5 of 989.4 TFLOPS (80 %) on large bf16 GEMMs.
  arch::ChipSpec h100 = arch::load_chip("h100");
  KernelCostModel model(h100);
  KernelCost c = model.cost(gemm_call(8192, 8192, 8192));
  double fraction = c.flops / c.seconds / peak(h100);
  EXPECT_GT(fraction, 0.70);
  EXPECT_LT(fraction, 0.85);
}

TEST(KernelCosts, GemmsPayTheGemmCallOverheadOtherKernelsTheLaunchOverhead) {
  for (const char* name : {"t1", "h20"}) {
    arch::ChipSpec chip = arch::load_chip(name);
    KernelCostModel model(chip);
    KernelCost gemm = model.cost(gemm_call(64, 64, 64)), add = model.cost(add_call(1024));
    EXPECT_DOUBLE_EQ(gemm.launch_s, chip.gemm_overhead_s()) << name;
    EXPECT_DOUBLE_EQ(add.launch_s, chip.launch_overhead_s) << name;
    for (const KernelCost& c : {gemm, add}) EXPECT_DOUBLE_EQ(c.seconds, c.body_s + c.launch_s) << name;
  }
  arch::ChipSpec h20 = arch::load_chip("h20");
  EXPECT_GT(h20.gemm_overhead_s(), h20.launch_overhead_s);  // a library call costs more than a launch
}

TEST(KernelCosts, MemoryBoundKernelsTakeTheirBytesOverHbmBandwidth) {
  arch::ChipSpec t1 = arch::load_chip("t1");
  KernelCostModel model(t1);
  const int64_t n = 16 << 20;
  KernelCost c = model.cost(add_call(n));
  EXPECT_EQ(c.bytes, 3 * 4 * n);  // two f32 inputs and one output
  EXPECT_FALSE(c.compute_bound);
  EXPECT_NEAR(c.body_s, 3.0 * 4 * n / (t1.hbm_bytes_per_s * t1.hbm_efficiency), 1e-12);
  EXPECT_NEAR(model.cost(add_call(2 * n)).body_s, 2 * c.body_s, 1e-12);

  std::vector<std::string> faster = {"hbm.bandwidth=8TB/s"};
  KernelCostModel twice_the_bandwidth(arch::load_chip("t1", faster));
  EXPECT_NEAR(twice_the_bandwidth.cost(add_call(n)).body_s, c.body_s / 2, 1e-12);
}

TEST(KernelCosts, StreamingKernelsReachTheMeasuredShareOfHbmBandwidth) {
  // A copy on a real H20 moves 3.29-3.32 of its 4.0 TB/s (shared/reference/chips.md).
  arch::ChipSpec h20 = arch::load_chip("h20");
  KernelCostModel model(h20);
  const int64_t n = 64 << 20;
  KernelCall copy;
  copy.kernel = Kernel::Copy;
  copy.operands = {operand({n}, DType::F32), operand({n}, DType::F32, Access::Write)};
  double bytes_per_s = 8.0 * n / model.cost(copy).body_s;
  EXPECT_GT(bytes_per_s, 3.29e12);
  EXPECT_LT(bytes_per_s, 3.33e12);
  std::vector<std::string> ideal = {"hbm.efficiency=1"};
  KernelCostModel at_peak(arch::load_chip("h20", ideal));
  EXPECT_NEAR(8.0 * n / at_peak.cost(copy).body_s, 4.0e12, 1e3);
}

TEST(KernelCosts, ReadWrittenOperandsCountTwiceAndBroadcastsOnce) {
  arch::ChipSpec t1 = arch::load_chip("t1");
  KernelCostModel model(t1);
  KernelCall adamw;
  adamw.kernel = Kernel::AdamW;
  adamw.operands = {operand({1000}, DType::F32, Access::ReadWrite), operand({1000}, DType::F32),
                    operand({1000}, DType::F32, Access::ReadWrite), operand({1000}, DType::F32, Access::ReadWrite)};
  EXPECT_EQ(model.cost(adamw).bytes, (2 + 1 + 2 + 2) * 4 * 1000);

  KernelCall bias_add = add_call(8 * 768);
  bias_add.operands[1] = {true, DType::F32, {8, 768}, {0, 1}, Access::Read};
  EXPECT_EQ(model.cost(bias_add).bytes, (8 * 768 + 768 + 8 * 768) * 4);
}

TEST(KernelCosts, MultiTensorKernelsCountEveryTensor) {
  arch::ChipSpec t1 = arch::load_chip("t1");
  KernelCostModel model(t1);
  KernelCall norm;
  norm.kernel = Kernel::SumSquaresMany;
  norm.operands = {operand({1000}, DType::F32), operand({3000}, DType::BF16), operand({24}, DType::F32)};
  EXPECT_EQ(model.cost(norm).bytes, (1000 + 24) * 4 + 3000 * 2);
  EXPECT_DOUBLE_EQ(model.cost(norm).flops, 2.0 * (1000 + 3000 + 24));
  KernelCall scale;
  scale.kernel = Kernel::ScaleMany;
  scale.operands = {operand({1000}, DType::F32), operand({1000}, DType::F32, Access::Write),
                    operand({3000}, DType::F32), operand({3000}, DType::F32, Access::Write)};
  EXPECT_EQ(model.cost(scale).bytes, 2 * (1000 + 3000) * 4);
  EXPECT_DOUBLE_EQ(model.cost(scale).flops, 2.0 * (1000 + 3000));  // as affine: a multiply and an add

  // AdamW over two tensors: each one's param, m and v read and written, its gradient read; the
  // work of both, and one launch where the per-tensor kernel pays two.
  KernelCall adamw;
  adamw.kernel = Kernel::AdamWMany;
  KernelCall singles[2];
  for (int64_t n : {int64_t{1000}, int64_t{3000}}) {
    std::vector<KernelOperand> ops = {operand({n}, DType::F32, Access::ReadWrite), operand({n}, DType::F32),
                                      operand({n}, DType::F32, Access::ReadWrite),
                                      operand({n}, DType::F32, Access::ReadWrite)};
    adamw.operands.insert(adamw.operands.end(), ops.begin(), ops.end());
    singles[n == 1000 ? 0 : 1].kernel = Kernel::AdamW;
    singles[n == 1000 ? 0 : 1].operands = ops;
  }
  EXPECT_EQ(model.cost(adamw).bytes, (2 + 1 + 2 + 2) * 4 * (1000 + 3000));
  EXPECT_DOUBLE_EQ(model.cost(adamw).flops, 16.0 * (1000 + 3000));
  EXPECT_DOUBLE_EQ(model.cost(adamw).flops, model.cost(singles[0]).flops + model.cost(singles[1]).flops);
  EXPECT_DOUBLE_EQ(model.cost(adamw).launch_s, t1.launch_overhead_s);
  EXPECT_LT(model.cost(adamw).seconds, model.cost(singles[0]).seconds + model.cost(singles[1]).seconds);
}

TEST(KernelCosts, EmbeddingReadsOnlyTheRowsItGathers) {
  arch::ChipSpec t1 = arch::load_chip("t1");
  KernelCostModel model(t1);
  KernelCall c;
  c.kernel = Kernel::Embedding;
  c.operands = {operand({4096}, DType::I64), operand({50257, 768}, DType::F32),
                operand({4096, 768}, DType::F32, Access::Write)};
  EXPECT_EQ(model.cost(c).bytes, 4096 * 8 + 2 * 4096 * 768 * 4);
}

TEST(KernelCosts, VectorBoundKernelsTakeTheirOperationsOverTheVectorPeak) {
  // One vector lane per core: gelu's 8 operations per element outweigh its 8 bytes.
  std::vector<std::string> narrow = {"vector.lanes=1"};
  arch::ChipSpec chip = arch::load_chip("t1", narrow);
  KernelCostModel model(chip);
  const int64_t n = 1 << 20;
  KernelCall gelu;
  gelu.kernel = Kernel::Unary;
  gelu.op = static_cast<int>(UnaryOp::Gelu);
  gelu.operands = {operand({n}, DType::F32), operand({n}, DType::F32, Access::Write)};
  KernelCost c = model.cost(gelu);
  EXPECT_TRUE(c.compute_bound);
  EXPECT_NEAR(c.body_s, 8.0 * n / arch::chip_figures(chip).fp32_vector_flops_per_s, 1e-12);
}

TEST(KernelCosts, FusedBiasGeluIsOneMemoryPass) {
  // bias_gelu reads x and the bias once and writes y; the unfused add + gelu also write and
  // read back x + bias, and launch twice.
  arch::ChipSpec t1 = arch::load_chip("t1");
  KernelCostModel model(t1);
  const int64_t rows = 8192, n = 3072;
  KernelCall fused;
  fused.kernel = Kernel::BiasGelu;
  fused.operands = {operand({rows, n}, DType::F32), operand({n}, DType::F32),
                    operand({rows, n}, DType::F32, Access::Write)};
  KernelCost c = model.cost(fused);
  EXPECT_EQ(c.bytes, (2 * rows * n + n) * 4);
  EXPECT_DOUBLE_EQ(c.flops, 9.0 * rows * n);
  KernelCall bias_add = add_call(rows * n), gelu;
  bias_add.operands[1] = {true, DType::F32, {rows, n}, {0, 1}, Access::Read};
  gelu.kernel = Kernel::Unary;
  gelu.op = static_cast<int>(UnaryOp::Gelu);
  gelu.operands = {operand({rows * n}, DType::F32), operand({rows * n}, DType::F32, Access::Write)};
  EXPECT_LT(c.seconds, model.cost(bias_add).seconds + model.cost(gelu).seconds);
}

TEST(KernelCosts, BatchSharingBTimesAsOneGemmWithTheBatchInM) {
  arch::ChipSpec t1 = arch::load_chip("t1");
  KernelCostModel model(t1);
  EXPECT_DOUBLE_EQ(model.cost(gemm_call(512, 768, 768, 8)).body_s, model.cost(gemm_call(8 * 512, 768, 768)).body_s);
}

TEST(KernelCosts, GemmsWithFewOutputTilesSplitK) {
  // A weight gradient of a 3x3 convolution: a 16 x 9 output over a K of 200704 rows is one
  // tile, which a program without a k-split runs on one core; split along K (by the compiler's
  // planner, or here) it runs on all of them.
  arch::ChipSpec t1 = arch::load_chip("t1");
  KernelCostModel model(t1);
  ChipTimer plain(t1);
  KernelCost split = model.cost(gemm_call(16, 9, 200704));
  compiler::GemmKernel kernel;
  kernel.m = 16, kernel.n = 9, kernel.k = 200704;
  compiler::GemmLowerOptions options;
  options.program = false;
  options.tiling = compiler::plan_gemm_tiling(kernel, t1);
  EXPECT_GT(options.tiling->splits, 1);
  options.tiling->splits = 1;
  double one_core = compiler::time_gemm(*compiler::lower_gemm(kernel, t1, options), t1).seconds;
  EXPECT_LT(split.body_s, one_core / 8);
  EXPECT_GE(split.body_s, split.memory_s);
  // A GEMM with more tiles than cores is not split.
  EXPECT_DOUBLE_EQ(model.cost(gemm_call(4096, 4096, 4096)).body_s,
                   plain.gemm_seconds({{4096, 4096, 4096}, DType::BF16, DType::BF16}));
}

TEST(KernelCosts, F32GemmsAreTimedAsBf16AndFlagged) {
  arch::ChipSpec t1 = arch::load_chip("t1");
  KernelCostModel model(t1);
  KernelCall c = gemm_call(1024, 1024, 1024);
  for (KernelOperand& o : c.operands) o.dtype = DType::F32;
  KernelCost f32 = model.cost(c);
  EXPECT_TRUE(f32.f32_gemm_as_bf16);
  EXPECT_EQ(f32.bytes, 3 * 1024 * 1024 * 4);
  EXPECT_FALSE(model.cost(gemm_call(1024, 1024, 1024)).f32_gemm_as_bf16);
}

TEST(KernelCosts, F32OutputGemmsAreTimedWithTheirF32Stores) {
  // 8192x3072x768 with f32 output has 12 k-steps per t1 tile: the case whose program used to
  // deadlock, when every f32 output was timed as a 16-bit one.
  arch::ChipSpec t1 = arch::load_chip("t1");
  KernelCostModel model(t1);
  ChipTimer timer(t1);
  KernelCall c = gemm_call(8192, 3072, 768);
  c.operands[2].dtype = DType::F32;
  KernelCost f32_out = model.cost(c);
  EXPECT_FALSE(f32_out.f32_gemm_as_bf16);
  EXPECT_DOUBLE_EQ(f32_out.body_s, timer.gemm_seconds({{8192, 3072, 768}, DType::BF16, DType::F32}));
  EXPECT_NE(f32_out.body_s, timer.gemm_seconds({{8192, 3072, 768}, DType::BF16, DType::BF16}));
  for (KernelOperand& o : c.operands) o.dtype = DType::F32;
  KernelCost all_f32 = model.cost(c);
  EXPECT_TRUE(all_f32.f32_gemm_as_bf16);
  EXPECT_DOUBLE_EQ(all_f32.body_s, f32_out.body_s);  // f32 inputs timed as bf16, the output as f32
}

TEST(AttentionCost, CausalPairsAndFlopsBoundTheMatrixTime) {
  for (const char* name : {"t1", "h20", "a100"}) {
    ChipTimer timer(arch::load_chip(name));
    AttentionShape shape{96, 1024, 64, DType::BF16};
    AttentionTime forward = attention_time(timer, shape, false);
    AttentionTime backward = attention_time(timer, shape, true);
    for (const AttentionTime& t : {forward, backward}) {
      double square = 96.0 * (1024.0 / t.tq) * (1024.0 / t.tk);
      EXPECT_GE(t.pairs, square / 2) << name;  // at least the lower triangle of blocks
      EXPECT_LT(t.pairs, square) << name;
      EXPECT_GE(t.matrix_s * peak(timer.chip()), t.flops * (1 - 1e-9)) << name;  // never above the peak
    }
    double scores = static_cast<double>(forward.pairs) * static_cast<double>(forward.tq * forward.tk);
    EXPECT_DOUBLE_EQ(forward.flops, scores * 4 * 64);
    EXPECT_NEAR(forward.vector_s, scores * 8 / arch::chip_figures(timer.chip()).fp32_vector_flops_per_s, 1e-12);
    EXPECT_GT(backward.matrix_s, 2 * forward.matrix_s) << name;  // five products against two
  }
}

TEST(AttentionCost, TwoQueryBlocksInTheScratchpadOverlapMatrixAndVectorWork) {
  ChipTimer timer(arch::load_chip("t1"));
  AttentionShape shape{96, 1024, 64, DType::BF16};
  for (bool backward : {false, true}) {
    AttentionTime t = attention_time(timer, shape, backward);
    EXPECT_TRUE(t.ping_pong);
    EXPECT_GE(t.seconds, std::max(t.matrix_s, t.vector_s));
    EXPECT_LT(t.seconds, t.matrix_s + t.vector_s);
  }
  // Room for one 32x32 block pair only (34 KiB forward; two query blocks need 52 KiB): they add up.
  std::vector<std::string> small = {"scratchpad.size=48KiB"};
  ChipTimer one_block(arch::load_chip("t1", small));
  AttentionTime t = attention_time(one_block, shape, false);
  EXPECT_FALSE(t.ping_pong);
  EXPECT_DOUBLE_EQ(t.seconds, t.matrix_s + t.vector_s);
}

TEST(AttentionCost, ScratchpadTooSmallIsAnError) {
  // Head size 256: even 32x32 blocks need 118 KiB.
  std::vector<std::string> tiny = {"scratchpad.size=40KiB"};
  ChipTimer timer(arch::load_chip("t1", tiny));
  try {
    attention_time(timer, {8, 1024, 256, DType::BF16}, false);
    FAIL() << "expected an error";
  } catch (const tessera::Error& e) {
    EXPECT_STREQ(e.what(),
                 "attention with head size 256: no block of 32x32 query and key rows fits the 40960 byte scratchpad "
                 "of chip t1");
  }
}

TEST(ChipTimer, EachGemmShapeIsSimulatedOnce) {
  ChipTimer timer(arch::load_chip("h20"));
  GemmProblem a{{1024, 768, 768}, DType::BF16, DType::BF16}, b{{1024, 3072, 768}, DType::BF16, DType::BF16};
  double first = timer.gemm_seconds(a);
  EXPECT_EQ(timer.gemm_seconds(a), first);
  timer.gemm_seconds(b);
  EXPECT_EQ(timer.gemms_simulated(), 2);
}

}  // namespace
}  // namespace tessera::perf
