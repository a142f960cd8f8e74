// Shuffled mini-batch stream (see shuffled_batches.h).
#include "data/shuffled_batches.h"

#include <algorithm>
#include <numeric>

#include "base/error.h"
#include "base/random.h"

namespace tessera {

ShuffledBatches::ShuffledBatches(int64_t count, int64_t batch_size, EpochPosition state)
    : count_(count), batch_size_(batch_size), state_(state) {
  if (count <= 0) fail("shuffled batches: dataset size {} must be positive", count);
  if (batch_size <= 0) fail("shuffled batches: batch size {} must be positive", batch_size);
  if (state.epoch < 0 || state.position < 0 || state.position >= count) {
    fail(
        "shuffled batches: resume state (epoch {}, position {}) is outside the dataset of {} "
        "examples",
        state.epoch, state.position, count);
  }
}

std::vector<int64_t> ShuffledBatches::epoch_order(int64_t count, uint64_t seed, int64_t epoch) {
  std::vector<int64_t> order(count);
  std::iota(order.begin(), order.end(), 0);
  uint64_t epoch_seed = random_bits(seed, static_cast<uint64_t>(epoch));
  for (int64_t i = count - 1; i > 0; --i) {
    // j uniform in [0, i] (the high half of a 64x64-bit product, bias below 2^-32).
    unsigned __int128 wide =
        static_cast<unsigned __int128>(random_bits(epoch_seed, i)) * static_cast<uint64_t>(i + 1);
    int64_t j = static_cast<int64_t>(wide >> 64);
    std::swap(order[i], order[j]);
  }
  return order;
}

std::vector<int64_t> ShuffledBatches::next() {
  if (order_epoch_ != state_.epoch) {
    order_ = epoch_order(count_, state_.seed, state_.epoch);
    order_epoch_ = state_.epoch;
  }
  int64_t end = std::min(state_.position + batch_size_, count_);
  std::vector<int64_t> batch(order_.begin() + state_.position, order_.begin() + end);
  state_.position = end;
  if (state_.position == count_) {
    state_.position = 0;
    ++state_.epoch;
  }
  return batch;
}

}  // namespace tessera
