// A deterministic, resumable stream of shuffled mini-batches over a dataset of N examples.
// Each epoch visits every example once in an order fixed by (seed, epoch); the whole state is
// three integers, so a checkpoint restores the stream exactly.
#pragma once
#include <cstdint>
#include <vector>

namespace tessera {

struct EpochPosition {
  uint64_t seed = 0;
  int64_t epoch = 0;     // epochs completed
  int64_t position = 0;  // examples of the current epoch already served, in [0, N)
};

class ShuffledBatches {
 public:
  // Error if count or batch_size is not positive or the state's position is outside [0, N).
  ShuffledBatches(int64_t count, int64_t batch_size, EpochPosition state = {});

  // Indices of the next batch. Batches never span two epochs: the last one of an epoch holds
  // the remaining N mod batch_size examples (when that is not zero).
  std::vector<int64_t> next();

  const EpochPosition& state() const { return state_; }
  int64_t batches_per_epoch() const { return (count_ + batch_size_ - 1) / batch_size_; }

  // The order of epoch `epoch`: a permutation of [0, N) (Fisher-Yates on random_bits).
  static std::vector<int64_t> epoch_order(int64_t count, uint64_t seed, int64_t epoch);

 private:
  int64_t count_;
  int64_t batch_size_;
  EpochPosition state_;
  std::vector<int64_t> order_;  // the permutation of state_.epoch
  int64_t order_epoch_ = -1;
};

}  // namespace tessera
