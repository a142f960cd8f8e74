// AVX-512 building blocks of the fast CPU kernels: 16-lane loads and stores of f32 and bf16
// (bf16 widened exactly, narrowed with round-to-nearest-even as dtype.h defines), a vector
// exp and tanh accurate to a few f32 ulps, GELU and its gradient, and the OpenMP size threshold.
#pragma once
// GCC 12 reports its own AVX-512 intrinsics (which start from an undefined register) as reading
// uninitialised values once they are inlined; the reports are false.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstdint>

#include "backends/backend.h"

namespace tessera::fast {

using bf16 = uint16_t;  // raw bf16 bits

// Loops shorter than this many elements run on one thread: a parallel region costs ~2 us.
inline constexpr int64_t kParallelMin = 1 << 15;

inline __mmask16 tail_mask(int64_t n) { return n >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << n) - 1); }

inline __m512 load(const float* p) { return _mm512_loadu_ps(p); }
inline __m512 load(const float* p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }
inline __m512 load(const bf16* p) {
  __m512i wide = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
}
inline __m512 load(const bf16* p, __mmask16 m) {
  __m512i wide = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, p));
  return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
}

inline void store(float* p, __m512 v) { _mm512_storeu_ps(p, v); }
inline void store(float* p, __m512 v, __mmask16 m) { _mm512_mask_storeu_ps(p, m, v); }
// f32 -> bf16 bits, round to nearest even; NaN stays a quiet NaN.
inline __m256i narrow_bf16(__m512 v) {
  __m512i bits = _mm512_castps_si512(v);
  __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(bits, 16), _mm512_set1_epi32(1));
  __m512i rounded = _mm512_srli_epi32(
      _mm512_add_epi32(bits, _mm512_add_epi32(_mm512_set1_epi32(0x7FFF), lsb)), 16);
  __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
  __m512i quiet = _mm512_or_si512(_mm512_srli_epi32(bits, 16), _mm512_set1_epi32(0x40));
  return _mm512_cvtepi32_epi16(_mm512_mask_mov_epi32(rounded, nan, quiet));
}
inline void store(bf16* p, __m512 v) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), narrow_bf16(v));
}
inline void store(bf16* p, __m512 v, __mmask16 m) { _mm256_mask_storeu_epi16(p, m, narrow_bf16(v)); }

// e^x: x = n ln2 + r, |r| <= ln2/2, degree-7 Taylor polynomial, scaled by 2^n with scalef
// (which handles overflow to inf and underflow to 0). NaN propagates.
inline __m512 exp(__m512 x) {
  x = _mm512_max_ps(_mm512_set1_ps(-104.0f), _mm512_min_ps(_mm512_set1_ps(89.0f), x));
  __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                  _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.0f / 5040);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, n);
}

// tanh(u) = 1 - 2 / (e^(2u) + 1); saturates to +-1.
inline __m512 tanh(__m512 u) {
  __m512 e = exp(_mm512_add_ps(u, u));
  __m512 two = _mm512_set1_ps(2.0f);
  return _mm512_sub_ps(_mm512_set1_ps(1.0f), _mm512_div_ps(two, _mm512_add_ps(e, _mm512_set1_ps(1.0f))));
}

// 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) and its derivative.
constexpr float kGeluC = 0.7978845608028654f, kGeluA = 0.044715f;
inline __m512 gelu(__m512 x) {
  __m512 x3 = _mm512_mul_ps(_mm512_mul_ps(x, x), x);
  __m512 t = fast::tanh(_mm512_mul_ps(_mm512_set1_ps(kGeluC), _mm512_fmadd_ps(_mm512_set1_ps(kGeluA), x3, x)));
  return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), x), _mm512_add_ps(_mm512_set1_ps(1.0f), t));
}
// dy * gelu'(x).
inline __m512 gelu_grad(__m512 x, __m512 dy) {
  __m512 x2 = _mm512_mul_ps(x, x);
  __m512 u = _mm512_mul_ps(_mm512_set1_ps(kGeluC), _mm512_fmadd_ps(_mm512_mul_ps(_mm512_set1_ps(kGeluA), x2), x, x));
  __m512 t = fast::tanh(u);
  __m512 one = _mm512_set1_ps(1.0f), half = _mm512_set1_ps(0.5f);
  __m512 du = _mm512_mul_ps(_mm512_set1_ps(kGeluC), _mm512_fmadd_ps(_mm512_set1_ps(3.0f * kGeluA), x2, one));
  __m512 sech2 = _mm512_fnmadd_ps(t, t, one);
  __m512 g = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_mul_ps(half, x), sech2), du,
                             _mm512_mul_ps(half, _mm512_add_ps(one, t)));
  return _mm512_mul_ps(g, dy);
}

// Contiguous dtype conversion, vectorised and threaded for F32 <-> BF16 (fast_elementwise.cpp).
void convert(const void* src, DType src_dtype, void* dst, DType dst_dtype, int64_t n);

inline bool is_f32(const View& v) { return v.dtype == DType::F32; }
inline bool is_f32_or_bf16(const View& v) { return v.dtype == DType::F32 || v.dtype == DType::BF16; }

}  // namespace tessera::fast
