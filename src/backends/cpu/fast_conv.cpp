// 2-D convolution (im2col + sgemm) and max pooling of the fast CPU backend, forward and
// backward. Samples run on separate threads; the weight gradient is one product over the whole
// batch (fixed panels), so no sum depends on the thread count.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "backends/cpu/fast_backend.h"
#include "backends/cpu/fast_gemm.h"
#include "backends/cpu/fast_simd.h"
#include "base/error.h"

namespace tessera {
namespace {

struct Geometry {
  int64_t batch, channels, height, width;  // x: (N, C, H, W)
  int64_t out_channels, kh, kw;            // weight: (O, C, KH, KW)
  int64_t out_h, out_w;                    // y: (N, O, OH, OW)
  int64_t stride, padding;
  int64_t patch() const { return channels * kh * kw; }  // rows of a column matrix
  int64_t pixels() const { return out_h * out_w; }      // columns of a column matrix
};

Geometry geometry(const View& x, const View& weight, const View& y, const Conv2dArgs& args) {
  Geometry g{x.shape[0],      x.shape[1],      x.shape[2], x.shape[3], weight.shape[0],
             weight.shape[2], weight.shape[3], y.shape[2], y.shape[3], args.stride, args.padding};
  TS_ASSERT(weight.shape[1] == g.channels && y.shape[0] == g.batch && y.shape[1] == g.out_channels);
  TS_ASSERT(g.out_h == (g.height + 2 * g.padding - g.kh) / g.stride + 1);
  TS_ASSERT(g.out_w == (g.width + 2 * g.padding - g.kw) / g.stride + 1);
  return g;
}

// The output columns [lo, hi) whose input column ow * stride - padding + j lies inside the row.
struct Span {
  int64_t lo, hi;
};
Span inside(const Geometry& g, int64_t j) {
  int64_t first = g.padding - j;  // smallest ow * stride that lands inside
  int64_t lo = first <= 0 ? 0 : (first + g.stride - 1) / g.stride;
  int64_t last = g.width - 1 + g.padding - j;  // largest ow * stride that lands inside
  int64_t hi = last < 0 ? 0 : std::min(g.out_w, last / g.stride + 1);
  return {lo, std::max(lo, hi)};
}

// cols (C*KH*KW, OH*OW) of one sample x (C, H, W), rows `ld` apart; padding reads as 0.
void im2col(const float* x, const Geometry& g, float* cols, int64_t ld) {
  for (int64_t c = 0; c < g.channels; ++c)
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t j = 0; j < g.kw; ++j) {
        float* row = cols + ((c * g.kh + i) * g.kw + j) * ld;
        Span span = inside(g, j);
        for (int64_t oh = 0; oh < g.out_h; ++oh) {
          int64_t ih = oh * g.stride - g.padding + i;
          float* out = row + oh * g.out_w;
          if (ih < 0 || ih >= g.height || span.lo == span.hi) {
            std::fill(out, out + g.out_w, 0.0f);
            continue;
          }
          const float* in = x + (c * g.height + ih) * g.width - g.padding + j;
          std::fill(out, out + span.lo, 0.0f);
          if (g.stride == 1) {
            std::copy(in + span.lo, in + span.hi, out + span.lo);
          } else {
            for (int64_t ow = span.lo; ow < span.hi; ++ow) out[ow] = in[ow * g.stride];
          }
          std::fill(out + span.hi, out + g.out_w, 0.0f);
        }
      }
}

// dx (C, H, W) += the columns scattered back (the transpose of im2col), in a fixed order.
void col2im(const float* cols, const Geometry& g, float* dx) {
  for (int64_t c = 0; c < g.channels; ++c)
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t j = 0; j < g.kw; ++j) {
        const float* row = cols + ((c * g.kh + i) * g.kw + j) * g.pixels();
        Span span = inside(g, j);
        for (int64_t oh = 0; oh < g.out_h; ++oh) {
          int64_t ih = oh * g.stride - g.padding + i;
          if (ih < 0 || ih >= g.height) continue;
          float* out = dx + (c * g.height + ih) * g.width - g.padding + j;
          const float* in = row + oh * g.out_w;
          if (g.stride == 1) {
            for (int64_t ow = span.lo; ow < span.hi; ++ow) out[ow] += in[ow];
          } else {
            for (int64_t ow = span.lo; ow < span.hi; ++ow) out[ow * g.stride] += in[ow];
          }
        }
      }
}

// One output row of a 2x2 stride-2 max pool: rows `top` and `top + width` of a plane give
// out_w outputs, 16 at a time. Same choice as the scalar loop: the first maximum in window
// order (top-left, top-right, bottom-left, bottom-right) wins; a NaN wins and stays.
void max_pool_2x2_row(const float* top, int64_t width, int64_t top_pos, int64_t out_w, float* y,
                      int64_t* idx) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  for (int64_t ow = 0; ow < out_w; ow += 16) {
    int64_t count = std::min<int64_t>(16, out_w - ow);
    __mmask16 low = fast::tail_mask(2 * count), 
             high = count > 8 ? fast::tail_mask(2 * count - 16) : 0;
    __m512 t0 = fast::load(top + 2 * ow, low), t1 = fast::load(top + 2 * ow + 16, high);
    __m512 b0 = fast::load(top + width + 2 * ow, low);
    __m512 b1 = fast::load(top + width + 2 * ow + 16, high);
    __m512 window[4] = {_mm512_permutex2var_ps(t0, even, t1), _mm512_permutex2var_ps(t0, odd, t1),
                        _mm512_permutex2var_ps(b0, even, b1), _mm512_permutex2var_ps(b0, odd, b1)};
    const int32_t offsets[4] = {0, 1, static_cast<int32_t>(width), static_cast<int32_t>(width + 1)};
    __m512 best = window[0];
    __m512i offset = _mm512_setzero_si512();
    for (int k = 1; k < 4; ++k) {
      __m512 v = window[k];
      __mmask16 take = _mm512_cmp_ps_mask(best, best, _CMP_ORD_Q) &
                       (_mm512_cmp_ps_mask(v, best, _CMP_GT_OQ) | _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q));
      best = _mm512_mask_mov_ps(best, take, v);
      offset = _mm512_mask_mov_epi32(offset, take, _mm512_set1_epi32(offsets[k]));
    }
    __mmask16 out_mask = fast::tail_mask(count);
    fast::store(y + ow, best, out_mask);
    // position = top_pos + 2 * (ow + lane) + offset, widened to int64 in two halves of 8.
    __m512i pos = _mm512_add_epi32(offset, even);
    __m512i base = _mm512_set1_epi64(top_pos + 2 * ow);
    __m512i lo = _mm512_add_epi64(base, _mm512_cvtepi32_epi64(_mm512_castsi512_si256(pos)));
    __m512i hi = _mm512_add_epi64(base, _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(pos, 1)));
    _mm512_mask_storeu_epi64(idx + ow, static_cast<__mmask8>(out_mask & 0xFF), lo);
    if (count > 8) _mm512_mask_storeu_epi64(idx + ow + 8, static_cast<__mmask8>(out_mask >> 8), hi);
  }
}

// sum of n floats in double: eight lanes in a fixed order, then the lanes in order.
double sum_f64(const float* x, int64_t n) {
  __m512d lanes = _mm512_setzero_pd();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) lanes = _mm512_add_pd(lanes, _mm512_cvtps_pd(_mm256_loadu_ps(x + i)));
  alignas(64) double parts[8];
  _mm512_store_pd(parts, lanes);
  double sum = 0.0;
  for (double part : parts) sum += part;
  for (; i < n; ++i) sum += x[i];
  return sum;
}

bool all_f32_contiguous(std::initializer_list<const View*> views) {
  for (const View* v : views)
    if (!fast::is_f32(*v) || !v->is_contiguous()) return false;
  return true;
}

}  // namespace

void FastBackend::conv2d(const View& x, const View& weight, const View& bias, const View& y,
                         const Conv2dArgs& args) {
  bool bias_ok = !bias.data || all_f32_contiguous({&bias});
  if (!all_f32_contiguous({&x, &weight, &y}) || !bias_ok || x.shape.size() != 4 ||
      weight.shape.size() != 4 || y.shape.size() != 4 || y.numel() == 0)
    return ReferenceBackend::conv2d(x, weight, bias, y, args);
  Geometry g = geometry(x, weight, y, args);
  const float *xs = x.as<float>(), *w = weight.as<float>();
  const float* b = bias.data ? bias.as<float>() : nullptr;
  float* ys = y.as<float>();
#pragma omp parallel for schedule(static) if (g.batch > 1)
  for (int64_t n = 0; n < g.batch; ++n) {
    thread_local std::vector<float> cols;
    cols.resize(static_cast<size_t>(g.patch() * g.pixels()));
    im2col(xs + n * g.channels * g.height * g.width, g, cols.data(), g.pixels());
    float* out = ys + n * g.out_channels * g.pixels();  // (O, OH*OW)
    for (int64_t o = 0; o < g.out_channels; ++o)
      std::fill(out + o * g.pixels(), out + (o + 1) * g.pixels(), b ? b[o] : 0.0f);
    fast::sgemm(false, false, g.out_channels, g.pixels(), g.patch(), 1.0f, w, cols.data(), 1.0f, out);
  }
}

void FastBackend::conv2d_backward(const View& x, const View& weight, const View& dy, const View& dx,
                                  const View& dweight, const View& dbias, const Conv2dArgs& args) {
  bool bias_ok = !dbias.data || all_f32_contiguous({&dbias});
  if (!all_f32_contiguous({&x, &weight, &dy, &dx, &dweight}) || !bias_ok || x.shape.size() != 4 ||
      weight.shape.size() != 4 || dy.shape.size() != 4 || dy.numel() == 0)
    return ReferenceBackend::conv2d_backward(x, weight, dy, dx, dweight, dbias, args);
  Geometry g = geometry(x, weight, dy, args);
  int64_t patch = g.patch(), pixels = g.pixels(), plane_in = g.channels * g.height * g.width;
  const float *xs = x.as<float>(), *w = weight.as<float>(), *gs = dy.as<float>();
  float *dxs = dx.as<float>(), *dw = dweight.as<float>();
  // The batch's columns side by side (C*KH*KW, N*OH*OW) and dy regrouped as (O, N*OH*OW).
  int64_t wide = g.batch * pixels;
  // Reused between calls; every element is written below before it is read.
  // Reused between calls (the caller's thread owns them); every element is written before use.
  thread_local std::vector<float> cols_buffer, grads_buffer;
  cols_buffer.resize(static_cast<size_t>(patch * wide));
  grads_buffer.resize(static_cast<size_t>(g.out_channels * wide));
  float *cols = cols_buffer.data(), *grads = grads_buffer.data();
  // Per-sample bias-gradient sums (N, O), added over the samples in order afterwards.
  std::vector<double> bias_sums(dbias.data ? static_cast<size_t>(g.batch * g.out_channels) : 0);
#pragma omp parallel for schedule(static) if (g.batch > 1)
  for (int64_t n = 0; n < g.batch; ++n) {
    im2col(xs + n * plane_in, g, cols + n * pixels, wide);
    const float* gn = gs + n * g.out_channels * pixels;
    for (int64_t o = 0; o < g.out_channels; ++o)
      std::copy(gn + o * pixels, gn + (o + 1) * pixels, grads + o * wide + n * pixels);
    if (dbias.data)
      for (int64_t o = 0; o < g.out_channels; ++o)
        bias_sums[n * g.out_channels + o] = sum_f64(gn + o * pixels, pixels);
    // dx[n] = col2im(weight^T (C*KH*KW, O) @ dy[n] (O, OH*OW)).
    thread_local std::vector<float> dcols;
    dcols.resize(static_cast<size_t>(patch * pixels));
    fast::sgemm(true, false, patch, pixels, g.out_channels, 1.0f, w, gn, 0.0f, dcols.data());
    float* dxn = dxs + n * plane_in;
    std::fill(dxn, dxn + plane_in, 0.0f);
    col2im(dcols.data(), g, dxn);
  }
  // dweight (O, C*KH*KW) += grads (O, N*OH*OW) @ cols^T: one product over the whole batch.
  MatmulArgs product;
  product.m = g.out_channels;
  product.n = patch;
  product.k = wide;
  product.transpose_b = true;
  product.accumulate = true;
  fast::gemm_f32(grads, cols, dw, product);
  if (dbias.data) {
    float* db = dbias.as<float>();
    for (int64_t o = 0; o < g.out_channels; ++o) {
      double sum = 0.0;
      for (int64_t n = 0; n < g.batch; ++n) sum += bias_sums[n * g.out_channels + o];
      db[o] = static_cast<float>(db[o] + sum);
    }
  }
}

void FastBackend::max_pool2d(const View& x, const View& y, const View& indices, int64_t kernel,
                             int64_t stride) {
  if (!all_f32_contiguous({&x, &y}) || indices.dtype != DType::I64 || !indices.is_contiguous() ||
      x.shape.size() != 4 || y.shape.size() != 4)
    return ReferenceBackend::max_pool2d(x, y, indices, kernel, stride);
  int64_t planes = x.shape[0] * x.shape[1], height = x.shape[2], width = x.shape[3];
  int64_t out_h = y.shape[2], out_w = y.shape[3];
  const float* xs = x.as<float>();
  float* ys = y.as<float>();
  int64_t* idx = indices.as<int64_t>();
#pragma omp parallel for schedule(static) if (x.numel() >= fast::kParallelMin)
  for (int64_t plane = 0; plane < planes; ++plane) {
    const float* in = xs + plane * height * width;
    if (kernel == 2 && stride == 2) {
      for (int64_t oh = 0; oh < out_h; ++oh) {
        int64_t o = (plane * out_h + oh) * out_w;
        max_pool_2x2_row(in + 2 * oh * width, width, 2 * oh * width, out_w, ys + o, idx + o);
      }
      continue;
    }
    for (int64_t oh = 0; oh < out_h; ++oh)
      for (int64_t ow = 0; ow < out_w; ++ow) {
        int64_t best_pos = (oh * stride) * width + ow * stride;
        float best = in[best_pos];
        // The first maximum in row-major window order wins; a NaN wins and stays.
        for (int64_t i = 0; i < kernel; ++i)
          for (int64_t j = 0; j < kernel; ++j) {
            int64_t pos = (oh * stride + i) * width + ow * stride + j;
            float v = in[pos];
            if (!std::isnan(best) && (v > best || std::isnan(v))) {
              best = v;
              best_pos = pos;
            }
          }
        int64_t o = (plane * out_h + oh) * out_w + ow;
        ys[o] = best;
        idx[o] = best_pos;
      }
  }
}

void FastBackend::max_pool2d_backward(const View& dy, const View& indices, const View& dx) {
  if (!all_f32_contiguous({&dy, &dx}) || indices.dtype != DType::I64 || !indices.is_contiguous() ||
      dx.shape.size() != 4 || dx.numel() == 0)
    return ReferenceBackend::max_pool2d_backward(dy, indices, dx);
  int64_t planes = dx.shape[0] * dx.shape[1], plane_size = dx.shape[2] * dx.shape[3];
  int64_t per_plane = dy.numel() / planes;
  const float* gs = dy.as<float>();
  const int64_t* idx = indices.as<int64_t>();
  float* out = dx.as<float>();
#pragma omp parallel for schedule(static) if (dx.numel() >= fast::kParallelMin)
  for (int64_t plane = 0; plane < planes; ++plane) {
    float* d = out + plane * plane_size;
    std::fill(d, d + plane_size, 0.0f);
    for (int64_t i = 0; i < per_plane; ++i) {
      int64_t pos = idx[plane * per_plane + i];
      TS_ASSERT(pos >= 0 && pos < plane_size);
      d[pos] += gs[plane * per_plane + i];
    }
  }
}

}  // namespace tessera
