// The Vector engine's exp and gelu: the simulator's own f32 functions rather than the host's
// libm, so that results do not depend on the host's library version, and vectorised.
//
// exp(x): x = n ln2 + r with n = round(x / ln2) and |r| <= ln2 / 2 (ln2 in two parts, each
// step one fused multiply-add), e^r by its Taylor polynomial of degree 7 (Horner, fused
// multiply-adds), scaled by 2^n in one rounding: within 2 ulps of e^x. x > 88.8 gives +inf,
// x < -104 gives +0, NaN stays NaN.
// gelu(x), tanh form: 0.5 x (1 + tanh(y)) with y = sqrt(2 / pi) (x + 0.044715 x^3), computed as
// x / (1 + exp(-2 y)), the same function without tanh's cancellation.
// Every element takes the same operations in the same order on the vector path and on the
// scalar path, so the results are bit-identical on any host.
#pragma once
#include <cstdint>

namespace tessera::sim {

// The definitions, one element at a time.
float exp_scalar(float x);
float gelu_scalar(float x);
// out[i] = exp_scalar(x[i]) for i < n, the same bits, vectorised; out may be x.
void exp_f32(const float* x, float* out, int64_t n);
// out[i] = gelu_scalar(x[i]) for i < n, the same bits, vectorised; out may be x.
void gelu_f32(const float* x, float* out, int64_t n);

}  // namespace tessera::sim
