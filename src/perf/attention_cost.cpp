// The FlashAttention-style cost of causal attention (see attention_cost.h).
#include "perf/attention_cost.h"

#include <algorithm>
#include <vector>

#include "arch/chip_figures.h"
#include "base/error.h"

namespace tessera::perf {

namespace {

constexpr int64_t kBlocks[] = {64, 128, 256, 512};
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
  AttentionTime best;
  double best_cycles = 0;
  for (int64_t bq : block_sizes(s.t)) {
    for (int64_t bk : block_sizes(s.t)) {
      if (working_set_bytes(bq, bk, s.d, in, backward) > chip.scratchpad_bytes) continue;
      double pair = backward ? 2 * timer.mma_cycles(bq, bk, s.d, s.input) + timer.mma_cycles(bq, s.d, bk, s.input) +
                                   2 * timer.mma_cycles(bk, s.d, bq, s.input)
                             : timer.mma_cycles(bq, bk, s.d, s.input) + timer.mma_cycles(bq, s.d, bk, s.input);
      int64_t pairs = s.heads * causal_pairs(s.t, bq, bk);
      double cycles = static_cast<double>((pairs + chip.cores - 1) / chip.cores) * pair;
      if (best.tq == 0 || cycles < best_cycles * (1 - 1e-9)) {
        best = {bq, bk, pairs, 0, 0, 0};
        best_cycles = cycles;
      }
    }
  }
  if (best.tq == 0) {
    fail("attention with head size {}: no block of {}x{} query and key rows fits the {} byte scratchpad of chip {}", s.d,
         block_sizes(s.t)[0], block_sizes(s.t)[0], chip.scratchpad_bytes, chip.name);
  }
  double scores = static_cast<double>(best.pairs) * static_cast<double>(best.tq * best.tk);
  best.matrix_s = best_cycles / chip.clock_hz;
  best.vector_s = scores * (backward ? kBackwardOpsPerScore : kForwardOpsPerScore) /
                  arch::chip_figures(chip).fp32_vector_flops_per_s;
  best.flops = scores * 2.0 * static_cast<double>(s.d) * (backward ? 5 : 2);
  return best;
}

}  // namespace tessera::perf
