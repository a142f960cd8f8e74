// The f32 matrix product of the fast CPU backend, shared by matmul, attention and conv.
#pragma once
#include "backends/backend.h"

namespace tessera::fast {

// out (batch, M, N) = op(a) @ op(b) (+ out when args.accumulate), all f32, threaded over pieces
// fixed by the shape. Called inside a parallel region it runs on the calling thread.
void gemm_f32(const float* a, const float* b, float* out, const MatmulArgs& args);

// One single-threaded sgemm: C (m, n) = alpha op(A) op(B) + beta C, row-major, packed.
void sgemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, float alpha,
           const float* a, const float* b, float beta, float* c);

}  // namespace tessera::fast
