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

// cols (C*KH*KW, OH*OW) of one sample x (C, H, W), rows `ld` apart; padding reads as 0.
void im2col(const float* x, const Geometry& g, float* cols, int64_t ld) {
  for (int64_t c = 0; c < g.channels; ++c)
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t j = 0; j < g.kw; ++j) {
        float* row = cols + ((c * g.kh + i) * g.kw + j) * ld;
        for (int64_t oh = 0; oh < g.out_h; ++oh) {
          int64_t ih = oh * g.stride - g.padding + i;
          float* out = row + oh * g.out_w;
          if (ih < 0 || ih >= g.height) {
            std::fill(out, out + g.out_w, 0.0f);
            continue;
          }
          const float* in = x + (c * g.height + ih) * g.width;
          for (int64_t ow = 0; ow < g.out_w; ++ow) {
            int64_t iw = ow * g.stride - g.padding + j;
            out[ow] = iw >= 0 && iw < g.width ? in[iw] : 0.0f;
          }
        }
      }
}

// dx (C, H, W) += the columns scattered back (the transpose of im2col), in a fixed order.
void col2im(const float* cols, const Geometry& g, float* dx) {
  for (int64_t c = 0; c < g.channels; ++c)
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t j = 0; j < g.kw; ++j) {
        const float* row = cols + ((c * g.kh + i) * g.kw + j) * g.pixels();
        for (int64_t oh = 0; oh < g.out_h; ++oh) {
          int64_t ih = oh * g.stride - g.padding + i;
          if (ih < 0 || ih >= g.height) continue;
          float* out = dx + (c * g.height + ih) * g.width;
          for (int64_t ow = 0; ow < g.out_w; ++ow) {
            int64_t iw = ow * g.stride - g.padding + j;
            if (iw >= 0 && iw < g.width) out[iw] += row[oh * g.out_w + ow];
          }
        }
      }
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
  std::vector<float> cols(static_cast<size_t>(patch * wide));
  std::vector<float> grads(static_cast<size_t>(g.out_channels * wide));
#pragma omp parallel for schedule(static) if (g.batch > 1)
  for (int64_t n = 0; n < g.batch; ++n) {
    im2col(xs + n * plane_in, g, cols.data() + n * pixels, wide);
    const float* gn = gs + n * g.out_channels * pixels;
    for (int64_t o = 0; o < g.out_channels; ++o)
      std::copy(gn + o * pixels, gn + (o + 1) * pixels, grads.data() + o * wide + n * pixels);
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
  fast::gemm_f32(grads.data(), cols.data(), dw, product);
  if (dbias.data) {
    float* db = dbias.as<float>();
    for (int64_t o = 0; o < g.out_channels; ++o) {
      double sum = 0.0;
      const float* row = grads.data() + o * wide;
      for (int64_t i = 0; i < wide; ++i) sum += row[i];
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
