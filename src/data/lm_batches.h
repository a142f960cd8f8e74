// Batches for language modelling from one token array: inputs are T consecutive tokens and
// targets the same window shifted by one.
//   LmSampler:   random windows for training, deterministic in (seed, position), resumable.
//   eval batches: the array cut into consecutive non-overlapping windows, in order.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace tessera {

struct LmBatch {
  int64_t batch = 0;             // B (the last evaluation batch may hold fewer windows)
  int64_t seq = 0;               // T
  std::vector<int64_t> inputs;   // (B, T)
  std::vector<int64_t> targets;  // (B, T): targets[b, t] = token after inputs[b, t]
};

struct SamplerPosition {
  uint64_t seed = 0;
  int64_t position = 0;  // batches drawn so far
};

class LmSampler {
 public:
  // `tokens` must outlive the sampler. Error unless batch, seq > 0 and the array holds at least
  // seq + 1 tokens.
  LmSampler(std::span<const int32_t> tokens, int64_t batch, int64_t seq,
            SamplerPosition state = {});

  // Window b of batch p starts at a uniform offset in [0, N - T - 1] drawn from
  // random_bits(seed, p * B + b).
  LmBatch next();
  const SamplerPosition& state() const { return state_; }

 private:
  std::span<const int32_t> tokens_;
  int64_t batch_, seq_;
  SamplerPosition state_;
};

// Windows of evaluation: window w covers tokens [w*T, w*T + T] (T inputs and the following
// target), for w < (N - 1) / T; batches hold B windows in order, the last one the remainder.
int64_t eval_batch_count(int64_t token_count, int64_t batch, int64_t seq);
LmBatch eval_batch(std::span<const int32_t> tokens, int64_t batch, int64_t seq, int64_t index);

}  // namespace tessera
