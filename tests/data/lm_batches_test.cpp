// Language-model batches: targets are inputs shifted by one, the sampler is deterministic and
// resumes exactly, offsets cover the array, and evaluation windows tile it in order.
#include "data/lm_batches.h"

#include <gtest/gtest.h>

#include <numeric>

#include "base/error.h"
#include "test_files.h"

namespace tessera {
namespace {

// tokens[i] = i, so every value tells where it was read from.
std::vector<int32_t> counting(int n) {
  std::vector<int32_t> tokens(n);
  std::iota(tokens.begin(), tokens.end(), 0);
  return tokens;
}

TEST(LmSampler, WindowsAreContiguousAndTargetsShifted) {
  std::vector<int32_t> tokens = counting(100);
  LmSampler sampler(tokens, 4, 8, {.seed = 5});
  for (int step = 0; step < 50; ++step) {
    LmBatch batch = sampler.next();
    ASSERT_EQ(batch.inputs.size(), 32u);
    for (int b = 0; b < 4; ++b) {
      int64_t start = batch.inputs[b * 8];
      EXPECT_GE(start, 0);
      EXPECT_LE(start, 100 - 8 - 1);
      for (int t = 0; t < 8; ++t) {
        EXPECT_EQ(batch.inputs[b * 8 + t], start + t);
        EXPECT_EQ(batch.targets[b * 8 + t], start + t + 1);
      }
    }
  }
}

TEST(LmSampler, OffsetsReachBothEnds) {
  std::vector<int32_t> tokens = counting(12);  // T = 3: offsets 0 .. 8
  LmSampler sampler(tokens, 16, 3, {.seed = 9});
  std::vector<int> hits(9, 0);
  for (int step = 0; step < 100; ++step) {
    LmBatch batch = sampler.next();
    for (int b = 0; b < 16; ++b) ++hits.at(batch.inputs[b * 3]);
  }
  for (int count : hits) EXPECT_GT(count, 100);  // 1600 draws, about 178 each
}

TEST(LmSampler, DeterministicAndResumable) {
  std::vector<int32_t> tokens = counting(1000);
  LmSampler reference(tokens, 3, 16, {.seed = 11});
  std::vector<LmBatch> expected;
  for (int i = 0; i < 10; ++i) expected.push_back(reference.next());

  LmSampler first(tokens, 3, 16, {.seed = 11});
  for (int i = 0; i < 4; ++i) EXPECT_EQ(first.next().inputs, expected[i].inputs);
  EXPECT_EQ(first.state().position, 4);
  LmSampler resumed(tokens, 3, 16, first.state());
  for (int i = 4; i < 10; ++i) {
    LmBatch batch = resumed.next();
    EXPECT_EQ(batch.inputs, expected[i].inputs);
    EXPECT_EQ(batch.targets, expected[i].targets);
  }
  LmSampler other_seed(tokens, 3, 16, {.seed = 12});
  EXPECT_NE(other_seed.next().inputs, expected[0].inputs);
}

TEST(LmSampler, RejectsBadShapes) {
  std::vector<int32_t> tokens = counting(8);
  EXPECT_ERROR_WITH(LmSampler(tokens, 2, 8), "8 tokens are too few for sequence length 8");
  EXPECT_ERROR_WITH(LmSampler(tokens, 0, 4), "batch 0 and sequence length 4 must be positive");
  EXPECT_ERROR_WITH(LmSampler(tokens, 2, 4, {.seed = 0, .position = -1}),
                    "resume position -1 must not be negative");
}

TEST(LmEval, WindowsTileTheArrayInOrder) {
  std::vector<int32_t> tokens = counting(23);  // (23 - 1) / 4 = 5 windows, batches of 2: 3
  ASSERT_EQ(eval_batch_count(23, 2, 4), 3);
  std::vector<int64_t> all_inputs, all_targets;
  for (int64_t i = 0; i < 3; ++i) {
    LmBatch batch = eval_batch(tokens, 2, 4, i);
    EXPECT_EQ(batch.batch, i < 2 ? 2 : 1);
    all_inputs.insert(all_inputs.end(), batch.inputs.begin(), batch.inputs.end());
    all_targets.insert(all_targets.end(), batch.targets.begin(), batch.targets.end());
  }
  std::vector<int64_t> expected_inputs(20), expected_targets(20);
  std::iota(expected_inputs.begin(), expected_inputs.end(), 0);
  std::iota(expected_targets.begin(), expected_targets.end(), 1);
  EXPECT_EQ(all_inputs, expected_inputs);
  EXPECT_EQ(all_targets, expected_targets);
  EXPECT_ERROR_WITH(eval_batch(tokens, 2, 4, 3), "batch index 3 is outside [0, 3)");
}

TEST(LmEval, ExactFitUsesTheLastToken) {
  std::vector<int32_t> tokens = counting(9);  // 2 windows of 4: targets end at token 8
  ASSERT_EQ(eval_batch_count(9, 8, 4), 1);
  LmBatch batch = eval_batch(tokens, 8, 4, 0);
  EXPECT_EQ(batch.batch, 2);
  EXPECT_EQ(batch.targets.back(), 8);
}

}  // namespace
}  // namespace tessera
