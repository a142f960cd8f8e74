// The recording backend: a GPT training step logs the kernels its architecture implies, with
// their shapes, in strict mode (no CPU fallback); a multi-tensor kernel is one call holding
// every tensor; memory is reserved, not committed, reads zero, and is counted alive and at its
// peak.
#include <gtest/gtest.h>

#include <algorithm>

#include "nn/gpt.h"
#include "record_step.h"

namespace tessera::test {
namespace {

int64_t count(const std::vector<KernelCall>& log, Kernel kernel) {
  return std::count_if(log.begin(), log.end(), [&](const KernelCall& c) { return c.kernel == kernel; });
}

TEST(RecordBackend, GptStepLogsTheKernelsOfItsArchitecture) {
  const int64_t B = 2, T = 16;
  GptConfig c = gpt_preset("gpt-mini");  // 4 layers, 4 heads, 128 channels
  std::vector<KernelCall> log = record_gpt_step("gpt-mini", B, T);
  int64_t L = c.n_layer;
  // Forward: 4 linear layers per block and the tied head; backward: two products per product.
  EXPECT_EQ(count(log, Kernel::Matmul), 3 * (4 * L + 1));
  EXPECT_EQ(count(log, Kernel::Attention), L);
  EXPECT_EQ(count(log, Kernel::AttentionBackward), L);
  // The first block's ln_1 reads the embeddings; every other layer norm is fused with the
  // residual add before it, and each MLP's bias with its GELU.
  EXPECT_EQ(count(log, Kernel::LayerNorm), 1);
  EXPECT_EQ(count(log, Kernel::LayerNormBackward), 1);
  EXPECT_EQ(count(log, Kernel::AddLayerNorm), 2 * L);
  EXPECT_EQ(count(log, Kernel::AddLayerNormBackward), 2 * L);
  EXPECT_EQ(count(log, Kernel::BiasGelu), L);
  EXPECT_EQ(count(log, Kernel::BiasGeluBackward), L);
  EXPECT_EQ(count(log, Kernel::Embedding), 2);
  EXPECT_EQ(count(log, Kernel::EmbeddingBackward), 2);
  EXPECT_EQ(count(log, Kernel::CrossEntropy), 1);
  EXPECT_EQ(count(log, Kernel::CrossEntropyBackward), 1);
  // One multi-tensor AdamW update for all parameter tensors (wte, wpe, 12 per block, ln_f), each
  // with its param, grad, m and v.
  EXPECT_EQ(count(log, Kernel::AdamW), 0);
  ASSERT_EQ(count(log, Kernel::AdamWMany), 1);
  auto adamw = std::find_if(log.begin(), log.end(), [](const KernelCall& k) { return k.kernel == Kernel::AdamWMany; });
  EXPECT_EQ(adamw->operands.size(), 4u * (2 + 12 * L + 2));

  // The head's forward product: (B T, C) @ (V, C)^T, one GEMM with the batch folded into M.
  auto head = std::find_if(log.begin(), log.end(), [&](const KernelCall& k) {
    return k.kernel == Kernel::Matmul && k.matmul.n == c.vocab_size;
  });
  ASSERT_NE(head, log.end());
  EXPECT_EQ(head->matmul.batch, 1);
  EXPECT_EQ(head->matmul.m, B * T);
  EXPECT_EQ(head->matmul.k, c.n_embd);
  EXPECT_TRUE(head->matmul.transpose_b);
  EXPECT_EQ(head->operands[0].dtype, DType::BF16);
  EXPECT_EQ(head->operands[2].shape, (Shape{B, T, c.vocab_size}));
  EXPECT_EQ(head->operands[2].access, Access::Write);

  auto attention = std::find_if(log.begin(), log.end(), [](const KernelCall& k) { return k.kernel == Kernel::Attention; });
  EXPECT_EQ(attention->operands[0].shape, (Shape{B, c.n_head, T, c.n_embd / c.n_head}));
  EXPECT_EQ(attention->operands.size(), 5u);  // q, k, v, out, lse
}

TEST(RecordBackend, MultiTensorKernelsLogOneCallWithEveryTensor) {
  RecordBackend& device = record_backend();
  device.clear_log();
  std::vector<Tensor> xs = {Tensor::zeros({64, 33}, DType::F32, "record"), Tensor::zeros({33}, DType::BF16, "record"),
                            Tensor::zeros({5}, DType::F32, "record")};
  std::vector<View> views, outs;
  for (const Tensor& x : xs) views.push_back(x.view()), outs.push_back(x.view());
  device.sum_squares_many(views);
  device.scale_many(std::span<const View>(views).first(2), std::span<const View>(outs).first(2), 0.5f);
  device.sum_squares_many({});  // no tensors: no launch, nothing logged
  device.scale_many({}, {}, 0.5f);
  std::vector<KernelCall> log = device.log();
  device.clear_log();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].kernel, Kernel::SumSquaresMany);
  ASSERT_EQ(log[0].operands.size(), 3u);
  EXPECT_EQ(log[0].operands[1].shape, Shape{33});
  EXPECT_EQ(log[0].operands[1].dtype, DType::BF16);
  EXPECT_EQ(log[1].kernel, Kernel::ScaleMany);
  ASSERT_EQ(log[1].operands.size(), 4u);  // x0, out0, x1, out1
  EXPECT_EQ(log[1].operands[0].access, Access::Read);
  EXPECT_EQ(log[1].operands[3].access, Access::Write);
  EXPECT_EQ(log[1].operands[2].shape, Shape{33});
}

TEST(RecordBackend, AdamWManyLogsOneCallWithEachTensorsFourOperands) {
  RecordBackend& device = record_backend();
  device.clear_log();
  std::vector<Tensor> xs = {Tensor::zeros({64, 33}, DType::F32, "record"), Tensor::zeros({33}, DType::F32, "record")};
  std::vector<View> views;
  for (const Tensor& x : xs) views.push_back(x.view());
  device.adamw_many(views, views, views, views, std::vector<AdamWArgs>(2));
  device.adamw_many({}, {}, {}, {}, {});  // no tensors: nothing logged
  std::vector<KernelCall> log = device.log();
  device.clear_log();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].kernel, Kernel::AdamWMany);
  ASSERT_EQ(log[0].operands.size(), 8u);  // param, grad, m, v of each tensor in turn
  const Access expected[] = {Access::ReadWrite, Access::Read, Access::ReadWrite, Access::ReadWrite};
  for (size_t k = 0; k < 8; ++k) EXPECT_EQ(log[0].operands[k].access, expected[k % 4]) << "operand " << k;
  EXPECT_EQ(log[0].operands[4].shape, Shape{33});
}

TEST(RecordBackend, OperandsCountBroadcastDimensionsOnce) {
  KernelOperand bias{true, DType::F32, {8, 1024, 768}, {0, 0, 1}, Access::Read};
  EXPECT_EQ(bias.distinct_elements(), 768);
  EXPECT_EQ(bias.distinct_bytes(), 768 * 4);
  KernelOperand absent{false, DType::F32, {3}, {1}, Access::Read};
  EXPECT_EQ(absent.distinct_bytes(), 0);
}

TEST(RecordBackend, MemoryIsReservedNotCommittedAndReadsZero) {
  RecordBackend& device = record_backend();
  int64_t before = device.live_bytes();
  device.reset_peak();
  const size_t huge = size_t{64} << 30;  // more than the host's memory
  {
    std::shared_ptr<void> block = device.allocate(huge);
    EXPECT_EQ(device.live_bytes(), before + static_cast<int64_t>(huge));
    std::vector<int64_t> host(4, 7);
    device.copy_from_host(block.get(), host.data(), 4 * sizeof(int64_t));
    device.copy_to_host(host.data(), block.get(), 4 * sizeof(int64_t));
    EXPECT_EQ(host, std::vector<int64_t>(4, 0));
  }
  EXPECT_EQ(device.live_bytes(), before);
  EXPECT_EQ(device.peak_live_bytes(), before + static_cast<int64_t>(huge));
  device.reset_peak();
  EXPECT_EQ(device.peak_live_bytes(), before);
}

TEST(RecordBackend, SupportsEveryKernelAndComputesNothing) {
  RecordBackend& device = record_backend();
  for (int k = 0; k < static_cast<int>(Kernel::Count); ++k) {
    EXPECT_TRUE(device.supports(static_cast<Kernel>(k), DType::BF16)) << kernel_name(static_cast<Kernel>(k));
  }
  EXPECT_FALSE(device.computes_values());
  std::vector<std::string> computing = computing_backend_names();
  EXPECT_EQ(std::count(computing.begin(), computing.end(), "record"), 0);
  EXPECT_EQ(std::count(computing.begin(), computing.end(), "cpu-ref"), 1);
}

}  // namespace
}  // namespace tessera::test
