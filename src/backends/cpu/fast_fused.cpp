// Fused kernels of the fast CPU backend: bias + GELU (f32 and bf16) and residual add + layer
// norm (f32), forward and backward, each one pass over memory. bias_gelu's forward runs rows
// on separate threads; its backward splits the columns, so that each task sums its columns of
// dbias over the rows in order (the same bits for any thread count).
#include <omp.h>

#include <algorithm>

#include "backends/cpu/fast_backend.h"
#include "backends/cpu/fast_layer_norm.h"
#include "backends/cpu/fast_simd.h"
#include "base/dtype.h"
#include "base/error.h"

namespace tessera {
namespace {

using fast::bf16;

constexpr int64_t kColumns = 64;  // columns per task of bias_gelu_backward (four vectors)

// Every view contiguous, of one dtype that is f32 or bf16 (`f32_only`: f32).
bool same_contiguous(std::initializer_list<const View*> views, bool f32_only) {
  DType dtype = (*views.begin())->dtype;
  for (const View* v : views)
    if (v->dtype != dtype || !v->is_contiguous() || !(f32_only ? fast::is_f32(*v) : fast::is_f32_or_bf16(*v)))
      return false;
  return true;
}

float to_f32(float v) { return v; }
float to_f32(bf16 v) { return bf16_to_f32(v); }
void assign(float& dst, double v) { dst = static_cast<float>(v); }
void assign(bf16& dst, double v) { dst = f32_to_bf16(static_cast<float>(v)); }

// y (rows, n) = gelu(x + bias).
template <typename T>
void bias_gelu_rows(const T* x, const T* bias, T* y, int64_t rows, int64_t n) {
#pragma omp parallel for schedule(static) if (rows > 1 && rows * n >= fast::kParallelMin)
  for (int64_t r = 0; r < rows; ++r) {
    const T* row = x + r * n;
    T* out = y + r * n;
    for (int64_t c = 0; c < n; c += 16) {
      __mmask16 m = fast::tail_mask(n - c);
      fast::store(out + c, fast::gelu(_mm512_add_ps(fast::load(row + c, m), fast::load(bias + c, m))), m);
    }
  }
}

// dx = gelu_grad(x + bias, dy); dbias += column sums of dx (f32 values, summed in double).
template <typename T>
void bias_gelu_backward_columns(const T* x, const T* bias, const T* dy, T* dx, T* dbias, int64_t rows, int64_t n) {
  int64_t chunks = (n + kColumns - 1) / kColumns;
#pragma omp parallel for schedule(static) if (chunks > 1 && rows * n >= fast::kParallelMin)
  for (int64_t t = 0; t < chunks; ++t) {
    int64_t lo = t * kColumns, width = std::min(kColumns, n - lo);
    __m512 b[kColumns / 16];
    __m512d sums[kColumns / 8];
    for (int64_t v = 0; v * 16 < width; ++v) b[v] = fast::load(bias + lo + v * 16, fast::tail_mask(width - v * 16));
    for (__m512d& s : sums) s = _mm512_setzero_pd();
    for (int64_t r = 0; r < rows; ++r) {
      int64_t at = r * n + lo;
      for (int64_t v = 0; v * 16 < width; ++v) {
        __mmask16 m = fast::tail_mask(width - v * 16);
        int64_t i = at + v * 16;
        __m512 g = fast::gelu_grad(_mm512_add_ps(fast::load(x + i, m), b[v]), fast::load(dy + i, m));
        fast::store(dx + i, g, m);
        __m256 high = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(g), 1));
        sums[2 * v] = _mm512_add_pd(sums[2 * v], _mm512_cvtps_pd(_mm512_castps512_ps256(g)));
        sums[2 * v + 1] = _mm512_add_pd(sums[2 * v + 1], _mm512_cvtps_pd(high));
      }
    }
    alignas(64) double column[kColumns];
    for (int64_t v = 0; v < kColumns / 8; ++v) _mm512_store_pd(column + v * 8, sums[v]);
    for (int64_t c = 0; c < width; ++c) assign(dbias[lo + c], to_f32(dbias[lo + c]) + column[c]);
  }
}

// (rows, n) of a kernel whose last dimension is n (0 rows when n is 0).
void rows_cols(const View& x, int64_t& rows, int64_t& n) {
  n = x.shape.empty() ? 1 : x.shape.back();
  rows = n == 0 ? 0 : x.numel() / n;
}

}  // namespace

void FastBackend::bias_gelu(const View& x, const View& bias, const View& y) {
  int64_t rows, n;
  rows_cols(x, rows, n);
  if (!same_contiguous({&x, &bias, &y}, false) || rows == 0) return ReferenceBackend::bias_gelu(x, bias, y);
  TS_ASSERT(bias.numel() == n && y.numel() == x.numel());
  if (x.dtype == DType::F32) return bias_gelu_rows(x.as<float>(), bias.as<float>(), y.as<float>(), rows, n);
  bias_gelu_rows(x.as<bf16>(), bias.as<bf16>(), y.as<bf16>(), rows, n);
}

void FastBackend::bias_gelu_backward(const View& x, const View& bias, const View& dy, const View& dx,
                                     const View& dbias) {
  int64_t rows, n;
  rows_cols(x, rows, n);
  if (!same_contiguous({&x, &bias, &dy, &dx, &dbias}, false) || rows == 0)
    return ReferenceBackend::bias_gelu_backward(x, bias, dy, dx, dbias);
  TS_ASSERT(bias.numel() == n && dbias.numel() == n && dy.numel() == x.numel() && dx.numel() == x.numel());
  if (x.dtype == DType::F32)
    return bias_gelu_backward_columns(x.as<float>(), bias.as<float>(), dy.as<float>(), dx.as<float>(),
                                      dbias.as<float>(), rows, n);
  bias_gelu_backward_columns(x.as<bf16>(), bias.as<bf16>(), dy.as<bf16>(), dx.as<bf16>(), dbias.as<bf16>(), rows, n);
}

void FastBackend::add_layer_norm(const View& x, const View& r, const View& weight, const View& bias, const View& s,
                                 const View& y, const View& mean, const View& rstd, float eps) {
  int64_t rows, channels;
  rows_cols(x, rows, channels);
  if (!same_contiguous({&x, &r, &weight, &bias, &s, &y, &mean, &rstd}, true) || rows == 0)
    return ReferenceBackend::add_layer_norm(x, r, weight, bias, s, y, mean, rstd, eps);
  TS_ASSERT(r.numel() == x.numel() && s.numel() == x.numel() && weight.numel() == channels);
  fast::layer_norm_rows(x.as<float>(), r.as<float>(), s.as<float>(), weight.as<float>(), bias.as<float>(),
                        y.as<float>(), mean.as<float>(), rstd.as<float>(), rows, channels, eps);
}

void FastBackend::add_layer_norm_backward(const View& dy, const View& ds, const View& s, const View& weight,
                                          const View& mean, const View& rstd, const View& dx, const View& dweight,
                                          const View& dbias) {
  int64_t rows, channels;
  rows_cols(s, rows, channels);
  bool fast_path = same_contiguous({&dy, &s, &weight, &mean, &rstd, &dx, &dweight, &dbias}, true) &&
                   (!ds.data || same_contiguous({&dy, &ds}, true)) && rows > 0;
  if (!fast_path) return ReferenceBackend::add_layer_norm_backward(dy, ds, s, weight, mean, rstd, dx, dweight, dbias);
  TS_ASSERT(dy.numel() == s.numel() && dx.numel() == s.numel() && weight.numel() == channels);
  fast::layer_norm_backward_rows(dy.as<float>(), ds.data ? ds.as<float>() : nullptr, s.as<float>(),
                                 weight.as<float>(), mean.as<float>(), rstd.as<float>(), dx.as<float>(),
                                 dweight.as<float>(), dbias.as<float>(), rows, channels);
}

}  // namespace tessera
