// Language-model batches (see lm_batches.h).
#include "data/lm_batches.h"

#include <algorithm>

#include "base/error.h"
#include "base/random.h"

namespace tessera {
namespace {

void check_shape(int64_t token_count, int64_t batch, int64_t seq, const char* who) {
  if (batch <= 0 || seq <= 0)
    fail("{}: batch {} and sequence length {} must be positive", who, batch, seq);
  if (token_count < seq + 1) {
    fail("{}: {} tokens are too few for sequence length {} (need at least {})", who, token_count,
         seq, seq + 1);
  }
}

// Copies the window starting at `start` into row `row` of the batch.
void fill_row(std::span<const int32_t> tokens, int64_t start, int64_t row, LmBatch& out) {
  for (int64_t t = 0; t < out.seq; ++t) {
    out.inputs[row * out.seq + t] = tokens[start + t];
    out.targets[row * out.seq + t] = tokens[start + t + 1];
  }
}

LmBatch empty_batch(int64_t batch, int64_t seq) {
  LmBatch out;
  out.batch = batch;
  out.seq = seq;
  out.inputs.resize(batch * seq);
  out.targets.resize(batch * seq);
  return out;
}

}  // namespace

LmSampler::LmSampler(std::span<const int32_t> tokens, int64_t batch, int64_t seq,
                     SamplerPosition state)
    : tokens_(tokens), batch_(batch), seq_(seq), state_(state) {
  check_shape(static_cast<int64_t>(tokens.size()), batch, seq, "LM sampler");
  if (state.position < 0)
    fail("LM sampler: resume position {} must not be negative", state.position);
}

LmBatch LmSampler::next() {
  LmBatch out = empty_batch(batch_, seq_);
  uint64_t starts = tokens_.size() - seq_;  // offsets 0 .. N - T - 1
  for (int64_t b = 0; b < batch_; ++b) {
    uint64_t bits = random_bits(state_.seed, static_cast<uint64_t>(state_.position * batch_ + b));
    int64_t start = static_cast<int64_t>((static_cast<unsigned __int128>(bits) * starts) >> 64);
    fill_row(tokens_, start, b, out);
  }
  ++state_.position;
  return out;
}

int64_t eval_batch_count(int64_t token_count, int64_t batch, int64_t seq) {
  check_shape(token_count, batch, seq, "LM eval batches");
  int64_t windows = (token_count - 1) / seq;
  return (windows + batch - 1) / batch;
}

LmBatch eval_batch(std::span<const int32_t> tokens, int64_t batch, int64_t seq, int64_t index) {
  int64_t count = eval_batch_count(static_cast<int64_t>(tokens.size()), batch, seq);
  if (index < 0 || index >= count) {
    fail("LM eval batches: batch index {} is outside [0, {})", index, count);
  }
  int64_t windows = (static_cast<int64_t>(tokens.size()) - 1) / seq;
  int64_t first = index * batch;
  int64_t rows = std::min(batch, windows - first);
  LmBatch out = empty_batch(rows, seq);
  for (int64_t b = 0; b < rows; ++b) fill_row(tokens, (first + b) * seq, b, out);
  return out;
}

}  // namespace tessera
