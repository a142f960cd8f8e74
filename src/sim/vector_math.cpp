// exp and gelu of the Vector engine (see vector_math.h): one scalar definition, and an
// AVX-512 loop that performs the same operations sixteen elements at a time.
#include "sim/vector_math.h"

#include <immintrin.h>

#include <cmath>

namespace tessera::sim {

namespace {

constexpr float kMaxArg = 88.8f;   // beyond: +inf
constexpr float kMinArg = -104.0f;  // below: +0 (e^x < 2^-150)
constexpr float kLog2e = 1.44269502f;
constexpr float kLn2Hi = 0.693359375f;  // ln 2 = kLn2Hi + kLn2Lo; kLn2Hi has 10 significant bits
constexpr float kLn2Lo = -2.12194440e-4f;
// 1 / k! for k = 7 down to 2 (then 1, 1).
constexpr float kTaylor[] = {1.0f / 5040, 1.0f / 720, 1.0f / 120, 1.0f / 24, 1.0f / 6, 0.5f};
constexpr float kGeluCubic = 0.044715f;
constexpr float kMinusTwoSqrt2OverPi = -1.5957691216f;  // -2 sqrt(2 / pi)

}  // namespace

float exp_scalar(float x) {
  if (std::isnan(x)) return x + x;
  if (x > kMaxArg) return INFINITY;
  if (x < kMinArg) return 0.0f;
  float n = std::nearbyint(x * kLog2e);
  float r = std::fma(-n, kLn2Hi, x);
  r = std::fma(-n, kLn2Lo, r);
  float p = kTaylor[0];
  for (int i = 1; i < 6; ++i) p = std::fma(p, r, kTaylor[i]);
  p = std::fma(p, r, 1.0f);
  p = std::fma(p, r, 1.0f);
  return std::ldexp(p, static_cast<int>(n));
}

float gelu_scalar(float x) {
  float cube = x * x * x;
  float z = kMinusTwoSqrt2OverPi * std::fma(kGeluCubic, cube, x);
  return x / (1.0f + exp_scalar(z));
}

namespace {

#ifdef __AVX512F__

__m512 exp16(__m512 x) {
  // The masked forms, with a defined pass-through, avoid GCC 12's uninitialised warnings.
  constexpr int kNearest = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
  __m512 zero = _mm512_setzero_ps();
  __m512 n = _mm512_mask_roundscale_ps(zero, 0xffff, _mm512_mul_ps(x, _mm512_set1_ps(kLog2e)), kNearest);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Hi), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Lo), r);
  __m512 p = _mm512_set1_ps(kTaylor[0]);
  for (int i = 1; i < 6; ++i) p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kTaylor[i]));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  __m512 y = _mm512_mask_scalef_ps(zero, 0xffff, p, n);
  y = _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(x, _mm512_set1_ps(kMaxArg), _CMP_GT_OQ), _mm512_set1_ps(INFINITY));
  y = _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(x, _mm512_set1_ps(kMinArg), _CMP_LT_OQ), zero);
  return _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), _mm512_add_ps(x, x));
}

__m512 gelu16(__m512 x) {
  __m512 cube = _mm512_mul_ps(_mm512_mul_ps(x, x), x);
  __m512 z = _mm512_mul_ps(_mm512_set1_ps(kMinusTwoSqrt2OverPi), _mm512_fmadd_ps(_mm512_set1_ps(kGeluCubic), cube, x));
  return _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.0f), exp16(z)));
}

// out[i] = f16(x[i]) sixteen at a time, the tail masked.
template <typename F16>
void map16(const float* x, float* out, int64_t n, F16 f16) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(out + i, f16(_mm512_loadu_ps(x + i)));
  if (i < n) {
    auto mask = static_cast<__mmask16>((1u << (n - i)) - 1);
    _mm512_mask_storeu_ps(out + i, mask, f16(_mm512_maskz_loadu_ps(mask, x + i)));
  }
}

#endif

}  // namespace

void exp_f32(const float* x, float* out, int64_t n) {
#ifdef __AVX512F__
  map16(x, out, n, exp16);
#else
  for (int64_t i = 0; i < n; ++i) out[i] = exp_scalar(x[i]);
#endif
}

void gelu_f32(const float* x, float* out, int64_t n) {
#ifdef __AVX512F__
  map16(x, out, n, gelu16);
#else
  for (int64_t i = 0; i < n; ++i) out[i] = gelu_scalar(x[i]);
#endif
}

}  // namespace tessera::sim
