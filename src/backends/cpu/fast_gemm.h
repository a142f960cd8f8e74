// The matrix products of the fast CPU backend: f32 (shared by matmul, attention and conv) and
// native bf16 where the CPU has AVX-512 BF16.
#pragma once
#include "backends/backend.h"

namespace tessera::fast {

// out (batch, M, N) = op(a) @ op(b) (+ out when args.accumulate), all f32, threaded over pieces
// fixed by the shape. Called inside a parallel region it runs on the calling thread.
void gemm_f32(const float* a, const float* b, float* out, const MatmulArgs& args);

// One single-threaded sgemm: C (m, n) = alpha op(A) op(B) + beta C, row-major, packed.
void sgemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, float alpha,
           const float* a, const float* b, float beta, float* c);

#ifdef __AVX512BF16__
inline constexpr bool kNativeBf16Gemm = true;
#else
inline constexpr bool kNativeBf16Gemm = false;
#endif

// out (batch, M, N) of `out_dtype` (F32 or BF16) = op(a) @ op(b) (+ out when args.accumulate),
// bf16 operands with f32 sums; the same bits for any thread count (fast_gemm_bf16.cpp). Only
// defined when kNativeBf16Gemm.
void gemm_bf16(const uint16_t* a, const uint16_t* b, void* out, DType out_dtype, const MatmulArgs& args);

}  // namespace tessera::fast
