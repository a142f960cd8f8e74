// Causal self-attention as flash-style tile programs (the contract of Backend::attention and
// attention_backward): q, k, v, out, dout, dq, dk, dv are (heads = B * H, T, D) arrays in HBM,
// f32 or bf16, packed or with their rows at any strides (HeadStrides: q, k and v read in place
// from a (B, T, 3C) projection, out written into (B, T, C)); lse and delta are packed (heads, T)
// f32. Nothing of size T x T reaches HBM.
//
// Both programs start with a preparation pass (attention_pipeline.h) that writes q, k, v (and
// dout) as bf16 into HBM scratch, with the transposed blocks the matrix engine needs as its b
// operand, then a barrier. Jobs are spread over the cores longest first.
// - Forward: a job is (head, q-block); it streams k-blocks 0 .. q-block: S = Q K^T (mma), then
//   on the vector engine S * scale, the causal mask on the diagonal block only, the running
//   row max m and sum l with the rescale of the output accumulator by exp(m_old - m_new), and
//   P = exp(S - m) as bf16; O += P V (mma). Finally out = O / l and lse = m + log(l).
// - Backward (FlashAttention-2): delta = rowsum(dout * out) in the preparation pass. Pass 1:
//   a job is (head, k-block) streaming q-blocks from the diagonal on, in the transposed
//   orientation so that no tile is transposed on the way: S^T = K Q^T and dP^T = V dO^T,
//   P^T = exp(S^T * scale - lse), dS^T = P^T * (dP^T - delta) * scale, dV += P^T dO and
//   dK += dS^T Q, kept in the scratchpad. Pass 2 (after a barrier): a job is (head, q-block)
//   streaming k-blocks up to the diagonal, recomputing S, P and dP to accumulate
//   dQ += dS K; this second pass replaces the atomic adds across cores that dQ would need.
// Block size: the largest of max_block, max_block / 2, ... (>= 8) whose tiles fit the
// scratchpad.
#pragma once
#include <cstdint>
#include <string>

#include "arch/chip.h"
#include "base/dtype.h"
#include "isa/isa.h"

namespace tessera::compiler {

// Where the rows of a (B, H, T, D) array lie in HBM: row t of head h of batch b starts at
// batch * b + head * h + row * t elements from the array's address; its D elements are
// contiguous. All 0 (the default): packed, as a (B * H, T, D) array.
struct HeadStrides {
  int64_t batch = 0, head = 0, row = 0;
  bool packed() const { return batch == 0 && head == 0 && row == 0; }
};

struct AttentionProgram {
  int64_t heads = 0, seq = 0, head_dim = 0;
  int64_t heads_per_batch = 0;  // H of heads = B * H, for strided arrays (0: heads)
  float scale = 1.0f;
  DType dtype = DType::F32;  // of q, k, v, out, dout and the gradients: f32 or bf16
  int64_t q = 0, k = 0, v = 0, out = 0, lse = 0;  // HBM addresses (out, lse written by the forward)
  int64_t dout = 0, dq = 0, dk = 0, dv = 0;       // backward only
  int64_t scratch = 0;   // HBM scratch of attention_scratch_bytes
  int64_t max_block = 128;
  HeadStrides q_strides, k_strides, v_strides, out_strides;      // of the arrays at q, k, v, out
  HeadStrides dout_strides, dq_strides, dk_strides, dv_strides;  // backward only
};

int64_t attention_scratch_bytes(const AttentionProgram& a, bool backward);
isa::Program attention_forward_program(const arch::ChipSpec& chip, const AttentionProgram& a);
isa::Program attention_backward_program(const arch::ChipSpec& chip, const AttentionProgram& a);
// Every field of `a`, as a program cache key (program_key.h).
std::string attention_key(const AttentionProgram& a);

}  // namespace tessera::compiler
