// Shuffled mini-batches: every epoch is a permutation, orders depend on (seed, epoch), and a
// stream rebuilt from a saved state continues exactly.
#include "data/shuffled_batches.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "base/error.h"
#include "test_files.h"

namespace tessera {
namespace {

TEST(ShuffledBatches, EachEpochIsAPermutationInBatches) {
  ShuffledBatches batches(10, 4, {.seed = 7});
  EXPECT_EQ(batches.batches_per_epoch(), 3);
  for (int epoch = 0; epoch < 3; ++epoch) {
    std::vector<int64_t> seen;
    std::vector<size_t> sizes;
    for (int b = 0; b < 3; ++b) {
      std::vector<int64_t> batch = batches.next();
      sizes.push_back(batch.size());
      seen.insert(seen.end(), batch.begin(), batch.end());
    }
    EXPECT_EQ(sizes, (std::vector<size_t>{4, 4, 2}));
    EXPECT_EQ(seen, ShuffledBatches::epoch_order(10, 7, epoch));
    std::sort(seen.begin(), seen.end());
    std::vector<int64_t> all(10);
    std::iota(all.begin(), all.end(), 0);
    EXPECT_EQ(seen, all);
    EXPECT_EQ(batches.state().epoch, epoch + 1);
    EXPECT_EQ(batches.state().position, 0);
  }
}

TEST(ShuffledBatches, OrdersDependOnSeedAndEpoch) {
  auto order = [](uint64_t seed, int64_t epoch) {
    return ShuffledBatches::epoch_order(1000, seed, epoch);
  };
  EXPECT_EQ(order(1, 0), order(1, 0));
  EXPECT_NE(order(1, 0), order(1, 1));
  EXPECT_NE(order(1, 0), order(2, 0));
  std::vector<int64_t> identity(1000);
  std::iota(identity.begin(), identity.end(), 0);
  EXPECT_NE(order(1, 0), identity);
}

TEST(ShuffledBatches, PositionsAreRoughlyUniform) {
  // Where example 0 lands over 4000 epochs of 8 examples: each slot about 500 times.
  std::vector<int> slot_counts(8, 0);
  for (int64_t epoch = 0; epoch < 4000; ++epoch) {
    std::vector<int64_t> order = ShuffledBatches::epoch_order(8, 3, epoch);
    ++slot_counts[std::find(order.begin(), order.end(), 0) - order.begin()];
  }
  for (int count : slot_counts) EXPECT_NEAR(count, 500, 90);
}

TEST(ShuffledBatches, ResumeFromSavedStateContinuesExactly) {
  ShuffledBatches reference(23, 5, {.seed = 42});
  std::vector<std::vector<int64_t>> expected;
  for (int i = 0; i < 20; ++i) expected.push_back(reference.next());

  ShuffledBatches first(23, 5, {.seed = 42});
  for (int i = 0; i < 7; ++i) EXPECT_EQ(first.next(), expected[i]);
  EpochPosition saved = first.state();
  EXPECT_EQ(saved.epoch, 1);
  EXPECT_EQ(saved.position, 10);
  ShuffledBatches resumed(23, 5, saved);
  for (int i = 7; i < 20; ++i) EXPECT_EQ(resumed.next(), expected[i]);
}

TEST(ShuffledBatches, RejectsBadArguments) {
  EXPECT_ERROR_WITH(ShuffledBatches(0, 4), "dataset size 0 must be positive");
  EXPECT_ERROR_WITH(ShuffledBatches(10, 0), "batch size 0 must be positive");
  EXPECT_ERROR_WITH(ShuffledBatches(10, 4, {.seed = 1, .epoch = 0, .position = 10}), "position 10",
                    "outside the dataset of 10 examples");
}

}  // namespace
}  // namespace tessera
