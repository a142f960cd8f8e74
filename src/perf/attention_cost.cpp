// The FlashAttention-style cost of causal attention (see attention_cost.h).
#include "perf/attention_cost.h"

#include <algorithm>
#include <vector>

#include "arch/chip_figures.h"
#include "base/error.h"

namespace tessera::perf {

namespace {

// 32-row blocks serve head size 128 backward on GPU presets, whose 228 KiB of shared memory
// does not hold a 64-row working set (FlashAttention keeps part of it in registers).
constexpr int64_t kBlocks[] = {32, 64, 128, 256, 512};
constexpr double kForwardOpsPerScore = 8, kBackwardOpsPerScore = 10;

// Causal (query block, key block) pairs of one head.
int64_t causal_pairs(int64_t t, int64_t tq, int64_t tk) {
  int64_t pairs = 0;
  for (int64_t first = 0; first < t; first += tq) pairs += (std::min(t, first + tq) + tk - 1) / tk;
  return pairs;
}

// The block sizes tried for a sequence of t rows: kBlocks below t, then t itself if it is not
// larger than the largest block.
std::vector<int64_t> block_sizes(int64_t t) {
  std::vector<int64_t> sizes;
  for (int64_t b : kBlocks) {
    sizes.push_back(std::min(b, t));
    if (b >= t) break;
  }
  return sizes;
}

int64_t working_set_bytes(int64_t tq, int64_t tk, int64_t d, int64_t in, bool backward) {
  int64_t scores = tq * tk * (4 + in);  // S in f32, P in the input dtype
  if (!backward) return tq * d * in + 4 * tk * d * in + scores + tq * d * 4;
  // Q and dO; double-buffered K and V; S/dP and P/dS; dK, dV and dQ accumulators.
  return 2 * tq * d * in + 4 * tk * d * in + 2 * scores + 2 * tk * d * 4 + tq * d * 4;
}

}  // namespace

AttentionTime attention_time(ChipTimer& timer, const AttentionShape& s, bool backward) {
  const arch::ChipSpec& chip = timer.chip();
  auto in = static_cast<int64_t>(dtype_size(s.input));
  double vector_ops_per_s = arch::chip_figures(chip).fp32_vector_flops_per_s;
  double ops_per_score = backward ? kBackwardOpsPerScore : kForwardOpsPerScore;
  AttentionTime best;
  for (int64_t bq : block_sizes(s.t)) {
    for (int64_t bk : block_sizes(s.t)) {
      if (working_set_bytes(bq, bk, s.d, in, backward) > chip.scratchpad_bytes) continue;
      double pair = backward ? 2 * timer.mma_cycles(bq, bk, s.d, s.input) + timer.mma_cycles(bq, s.d, bk, s.input) +
                                   2 * timer.mma_cycles(bk, s.d, bq, s.input)
                             : timer.mma_cycles(bq, bk, s.d, s.input) + timer.mma_cycles(bq, s.d, bk, s.input);
      AttentionTime t;
      t.tq = bq, t.tk = bk;
      t.pairs = s.heads * causal_pairs(s.t, bq, bk);
      t.matrix_s = static_cast<double>((t.pairs + chip.cores - 1) / chip.cores) * pair / chip.clock_hz;
      double scores = static_cast<double>(t.pairs) * static_cast<double>(bq * bk);
      t.vector_s = scores * ops_per_score / vector_ops_per_s;
      t.flops = scores * 2.0 * static_cast<double>(s.d) * (backward ? 5 : 2);
      // Ping-pong needs a second query block's tiles (Q, S, P, accumulators) beside the shared K and V.
      t.ping_pong = working_set_bytes(2 * bq, bk, s.d, in, backward) <= chip.scratchpad_bytes;
      if (t.ping_pong) {
        double pair_vector_s = static_cast<double>(bq * bk) * ops_per_score * static_cast<double>(chip.cores) /
                               vector_ops_per_s;
        t.seconds = std::max(t.matrix_s, t.vector_s) + std::min(pair / chip.clock_hz, pair_vector_s);
      } else {
        t.seconds = t.matrix_s + t.vector_s;
      }
      if (best.tq == 0 || t.seconds < best.seconds * (1 - 1e-9)) best = t;
    }
  }
  if (best.tq == 0) {
    fail("attention with head size {}: no block of {}x{} query and key rows fits the {} byte scratchpad of chip {}", s.d,
         block_sizes(s.t)[0], block_sizes(s.t)[0], chip.scratchpad_bytes, chip.name);
  }
  return best;
}

}  // namespace tessera::perf
