// Causal attention on a chip, as a FlashAttention-style kernel: each core takes blocks of tq
// query rows and walks the key blocks of tk rows up to the diagonal, keeping the scores on
// chip. Per (query block, key block) pair:
//   forward:  S = Q K^T (tq x tk x D), softmax of S, O += P V (tq x D x tk)
//   backward: S = Q K^T again (only the log-sum-exp is kept), dP = dO V^T (both tq x tk x D),
//             dQ += dS K (tq x D x tk), dK += dS^T Q and dV += P^T dO (both tk x D x tq)
// Matrix time = ceil(pairs / cores) x the pair's mma cycles (chip_timer.h: the chip's matrix
// engine model with its scratchpad traffic), pairs spread evenly over the cores.
// Vector time = score elements computed (pairs x tq x tk, masked halves of diagonal blocks
// included) x operations per score / the chip's fp32 vector peak, with 8 operations forward
// (scale, running max, subtract, exp as 4, sum) and 10 backward (subtract and exp as 4 to
// recompute P, dS = P (dP - delta) as 2, scale, two conversions to the input dtype).
// The two are added: softmax and the matrix products of a block depend on each other and are
// taken not to overlap (a FlashAttention-2 schedule; a ping-pong schedule would overlap them).
// The block sizes are the pair from {32, 64, 128, 256, 512} whose working set (Q, double-buffered
// K and V, O or dK/dV/dQ accumulators, S and P) fits the scratchpad with the fewest matrix
// cycles; an Error when none fits.
#pragma once
#include "perf/chip_timer.h"

namespace tessera::perf {

struct AttentionShape {
  int64_t heads = 1;  // batch x heads
  int64_t t = 1, d = 1;
  DType input = DType::BF16;
};

struct AttentionTime {
  int64_t tq = 0, tk = 0;
  int64_t pairs = 0;  // (query block, key block) pairs over all heads
  double matrix_s = 0, vector_s = 0;
  bool ping_pong = false;  // two query blocks per core, matrix and vector work overlapped
  double seconds = 0;      // the kernel's body: overlapped or added, as ping_pong says
  double flops = 0;  // matrix FLOPs done (2 per multiply-accumulate)
};

AttentionTime attention_time(ChipTimer& timer, const AttentionShape& shape, bool backward);

}  // namespace tessera::perf
