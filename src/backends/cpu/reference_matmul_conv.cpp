// cpu-ref batched matmul, direct 2-D convolution and max pooling, forward and backward.
#include <cmath>
#include <limits>

#include "backends/cpu/reference_backend.h"
#include "base/error.h"

namespace tessera {

void ReferenceBackend::matmul(const View& a, const View& b, const View& out,
                              const MatmulArgs& args) {
  auto [batch, m, n, k, transpose_a, transpose_b, stride_a, stride_b, stride_out, accumulate] =
      args;
  for (int64_t bi = 0; bi < batch; ++bi) {
    int64_t base_a = bi * stride_a, base_b = bi * stride_b, base_out = bi * stride_out;
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double sum = 0.0;
        for (int64_t p = 0; p < k; ++p) {
          float x = load(a, base_a + (transpose_a ? p * m + i : i * k + p));  // A[i, p]
          float y = load(b, base_b + (transpose_b ? j * k + p : p * n + j));  // B[p, j]
          sum += static_cast<double>(x) * y;
        }
        int64_t offset = base_out + i * n + j;
        if (accumulate) sum += load(out, offset);
        store(out, offset, static_cast<float>(sum));
      }
    }
  }
}

namespace {

struct ConvDims {
  int64_t batch, in_channels, height, width;  // x: (N, C, H, W)
  int64_t out_channels, kernel_h, kernel_w;   // weight: (O, C, KH, KW)
  int64_t out_height, out_width;              // y: (N, O, OH, OW)
};

ConvDims conv_dims(const View& x, const View& weight, const View& y, const Conv2dArgs& args) {
  TS_ASSERT(x.shape.size() == 4 && weight.shape.size() == 4 && y.shape.size() == 4);
  ConvDims d{x.shape[0],      x.shape[1],      x.shape[2], x.shape[3], weight.shape[0],
             weight.shape[2], weight.shape[3], y.shape[2], y.shape[3]};
  TS_ASSERT(weight.shape[1] == d.in_channels && y.shape[1] == d.out_channels);
  TS_ASSERT(d.out_height == (d.height + 2 * args.padding - d.kernel_h) / args.stride + 1);
  TS_ASSERT(d.out_width == (d.width + 2 * args.padding - d.kernel_w) / args.stride + 1);
  return d;
}

}  // namespace

void ReferenceBackend::conv2d(const View& x, const View& weight, const View& bias, const View& y,
                              const Conv2dArgs& args) {
  ConvDims d = conv_dims(x, weight, y, args);
  std::vector<float> xs = load_all(x), ws = load_all(weight);
  std::vector<float> bs = bias.data ? load_all(bias) : std::vector<float>(d.out_channels, 0.0f);
  std::vector<double> ys(static_cast<size_t>(y.numel()));
  for (int64_t n = 0; n < d.batch; ++n)
    for (int64_t o = 0; o < d.out_channels; ++o)
      for (int64_t oh = 0; oh < d.out_height; ++oh)
        for (int64_t ow = 0; ow < d.out_width; ++ow) {
          double sum = bs[o];
          for (int64_t c = 0; c < d.in_channels; ++c)
            for (int64_t kh = 0; kh < d.kernel_h; ++kh)
              for (int64_t kw = 0; kw < d.kernel_w; ++kw) {
                int64_t ih = oh * args.stride - args.padding + kh;
                int64_t iw = ow * args.stride - args.padding + kw;
                if (ih < 0 || ih >= d.height || iw < 0 || iw >= d.width) continue;  // padding
                sum += static_cast<double>(
                           xs[((n * d.in_channels + c) * d.height + ih) * d.width + iw]) *
                       ws[((o * d.in_channels + c) * d.kernel_h + kh) * d.kernel_w + kw];
              }
          ys[((n * d.out_channels + o) * d.out_height + oh) * d.out_width + ow] = sum;
        }
  store_all(y, ys);
}

void ReferenceBackend::conv2d_backward(const View& x, const View& weight, const View& dy,
                                       const View& dx, const View& dweight, const View& dbias,
                                       const Conv2dArgs& args) {
  ConvDims d = conv_dims(x, weight, dy, args);
  std::vector<float> xs = load_all(x), ws = load_all(weight), dys = load_all(dy);
  std::vector<double> dxs(xs.size(), 0.0);
  std::vector<float> old_dw = load_all(dweight);
  std::vector<double> dws(old_dw.begin(), old_dw.end());
  std::vector<double> dbs(static_cast<size_t>(d.out_channels), 0.0);
  for (int64_t n = 0; n < d.batch; ++n)
    for (int64_t o = 0; o < d.out_channels; ++o)
      for (int64_t oh = 0; oh < d.out_height; ++oh)
        for (int64_t ow = 0; ow < d.out_width; ++ow) {
          double g = dys[((n * d.out_channels + o) * d.out_height + oh) * d.out_width + ow];
          dbs[o] += g;
          for (int64_t c = 0; c < d.in_channels; ++c)
            for (int64_t kh = 0; kh < d.kernel_h; ++kh)
              for (int64_t kw = 0; kw < d.kernel_w; ++kw) {
                int64_t ih = oh * args.stride - args.padding + kh;
                int64_t iw = ow * args.stride - args.padding + kw;
                if (ih < 0 || ih >= d.height || iw < 0 || iw >= d.width) continue;  // padding
                size_t xi =
                    static_cast<size_t>(((n * d.in_channels + c) * d.height + ih) * d.width + iw);
                size_t wi = static_cast<size_t>(
                    ((o * d.in_channels + c) * d.kernel_h + kh) * d.kernel_w + kw);
                dxs[xi] += g * ws[wi];
                dws[wi] += g * xs[xi];
              }
        }
  store_all(dx, dxs);
  store_all(dweight, dws);
  if (dbias.data) {
    std::vector<float> old_db = load_all(dbias);
    for (int64_t o = 0; o < d.out_channels; ++o) dbs[o] += old_db[o];
    store_all(dbias, dbs);
  }
}

void ReferenceBackend::max_pool2d(const View& x, const View& y, const View& indices, int64_t kernel,
                                  int64_t stride) {
  TS_ASSERT(x.shape.size() == 4 && y.shape.size() == 4);
  int64_t planes = x.shape[0] * x.shape[1], height = x.shape[2], width = x.shape[3];
  int64_t out_height = y.shape[2], out_width = y.shape[3];
  TS_ASSERT(out_height == (height - kernel) / stride + 1);
  TS_ASSERT(out_width == (width - kernel) / stride + 1);
  std::vector<float> xs = load_all(x);  // (N * C, H, W)
  for (int64_t plane = 0; plane < planes; ++plane)
    for (int64_t oh = 0; oh < out_height; ++oh)
      for (int64_t ow = 0; ow < out_width; ++ow) {
        float best = -std::numeric_limits<float>::infinity();
        int64_t best_position = -1;
        for (int64_t kh = 0; kh < kernel; ++kh)
          for (int64_t kw = 0; kw < kernel; ++kw) {
            int64_t position = (oh * stride + kh) * width + ow * stride + kw;
            float v = xs[plane * height * width + position];
            // The first maximum in row-major window order wins; NaN propagates.
            bool better = best_position < 0 || (!std::isnan(best) && (v > best || std::isnan(v)));
            if (better) {
              best = v;
              best_position = position;
            }
          }
        int64_t out_offset = (plane * out_height + oh) * out_width + ow;
        store(y, out_offset, best);
        store_index(indices, out_offset, best_position);
      }
}

void ReferenceBackend::max_pool2d_backward(const View& dy, const View& indices, const View& dx) {
  TS_ASSERT(dx.shape.size() == 4);
  int64_t planes = dx.shape[0] * dx.shape[1], plane_size = dx.shape[2] * dx.shape[3];
  int64_t outputs_per_plane = dy.numel() / planes;
  std::vector<float> dys = load_all(dy);                          // (N * C, OH * OW)
  std::vector<double> dxs(static_cast<size_t>(dx.numel()), 0.0);  // (N * C, H * W)
  for (int64_t plane = 0; plane < planes; ++plane)
    for (int64_t i = 0; i < outputs_per_plane; ++i) {
      int64_t position = load_index(indices, plane * outputs_per_plane + i);
      TS_ASSERT(position >= 0 && position < plane_size);
      dxs[plane * plane_size + position] += dys[plane * outputs_per_plane + i];
    }
  store_all(dx, dxs);
}

}  // namespace tessera
