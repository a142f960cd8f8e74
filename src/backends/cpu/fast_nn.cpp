// Layer norm and embeddings of the fast CPU backend, forward and backward. Rows run on
// separate threads; the parameter gradients (summed over rows) are split by columns and add
// the rows in order, so they do not depend on the thread count.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "backends/cpu/fast_backend.h"
#include "backends/cpu/fast_layer_norm.h"
#include "backends/cpu/fast_simd.h"
#include "base/error.h"

namespace tessera {
namespace {

constexpr int64_t kColumns = 64;  // columns per task of a column-split reduction

double lanes_sum(__m512 v) {
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, v);
  double sum = 0.0;
  for (float x : lanes) sum += x;
  return sum;
}

}  // namespace

namespace fast {

void layer_norm_rows(const float* xs, const float* rs, float* ss, const float* w, const float* b, float* ys,
                     float* means, float* rstds, int64_t rows, int64_t channels, float eps) {
#pragma omp parallel for schedule(static) if (rows * channels >= kParallelMin)
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = xs + r * channels;
    if (rs) {  // s = x + r, then the row is s
      float* s_row = ss + r * channels;
      for (int64_t c = 0; c < channels; c += 16) {
        __mmask16 m = tail_mask(channels - c);
        store(s_row + c, _mm512_add_ps(load(row + c, m), load(rs + r * channels + c, m)), m);
      }
      row = s_row;
    }
    __m512 acc = _mm512_setzero_ps();
    for (int64_t c = 0; c < channels; c += 16) acc = _mm512_add_ps(acc, load(row + c, tail_mask(channels - c)));
    double row_mean = lanes_sum(acc) / channels;
    __m512 mu = _mm512_set1_ps(static_cast<float>(row_mean));
    acc = _mm512_setzero_ps();
    for (int64_t c = 0; c < channels; c += 16) {
      __mmask16 m = tail_mask(channels - c);
      __m512 d = _mm512_maskz_sub_ps(m, load(row + c, m), mu);
      acc = _mm512_fmadd_ps(d, d, acc);
    }
    double row_rstd = 1.0 / std::sqrt(lanes_sum(acc) / channels + eps);
    means[r] = static_cast<float>(row_mean);
    rstds[r] = static_cast<float>(row_rstd);
    __m512 s = _mm512_set1_ps(static_cast<float>(row_rstd));
    for (int64_t c = 0; c < channels; c += 16) {
      __mmask16 m = tail_mask(channels - c);
      __m512 xhat = _mm512_mul_ps(_mm512_sub_ps(load(row + c, m), mu), s);
      store(ys + r * channels + c, _mm512_fmadd_ps(xhat, load(w + c, m), load(b + c, m)), m);
    }
  }
}

void layer_norm_backward_rows(const float* gs, const float* ds, const float* xs, const float* w, const float* means,
                              const float* rstds, float* dxs, float* dw, float* db, int64_t rows, int64_t channels) {
  bool parallel = rows * channels >= kParallelMin;
  // dx, row by row: rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) (+ ds).
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t r = 0; r < rows; ++r) {
    const float *g = gs + r * channels, *row = xs + r * channels;
    __m512 mu = _mm512_set1_ps(means[r]), s = _mm512_set1_ps(rstds[r]);
    __m512 sum_dxhat = _mm512_setzero_ps(), sum_dxhat_xhat = _mm512_setzero_ps();
    for (int64_t c = 0; c < channels; c += 16) {
      __mmask16 m = tail_mask(channels - c);
      __m512 xhat = _mm512_mul_ps(_mm512_sub_ps(load(row + c, m), mu), s);
      __m512 dxhat = _mm512_mul_ps(load(g + c, m), load(w + c, m));
      sum_dxhat = _mm512_add_ps(sum_dxhat, dxhat);
      sum_dxhat_xhat = _mm512_fmadd_ps(dxhat, xhat, sum_dxhat_xhat);
    }
    __m512 mean_dxhat = _mm512_set1_ps(static_cast<float>(lanes_sum(sum_dxhat) / channels));
    __m512 mean_dxhat_xhat = _mm512_set1_ps(static_cast<float>(lanes_sum(sum_dxhat_xhat) / channels));
    for (int64_t c = 0; c < channels; c += 16) {
      __mmask16 m = tail_mask(channels - c);
      __m512 xhat = _mm512_mul_ps(_mm512_sub_ps(load(row + c, m), mu), s);
      __m512 dxhat = _mm512_mul_ps(load(g + c, m), load(w + c, m));
      __m512 v = _mm512_mul_ps(s, _mm512_fnmadd_ps(xhat, mean_dxhat_xhat, _mm512_sub_ps(dxhat, mean_dxhat)));
      if (ds) v = _mm512_add_ps(v, load(ds + r * channels + c, m));
      store(dxs + r * channels + c, v, m);
    }
  }
  // dweight += sum_r dy * xhat, dbias += sum_r dy, by column blocks with rows in order.
  int64_t chunks = (channels + kColumns - 1) / kColumns;
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t t = 0; t < chunks; ++t) {
    int64_t lo = t * kColumns, width = std::min(kColumns, channels - lo);
    double acc_w[kColumns] = {}, acc_b[kColumns] = {};
    for (int64_t r = 0; r < rows; ++r) {
      const float *g = gs + r * channels + lo, *row = xs + r * channels + lo;
      float mu = means[r], s = rstds[r];
      for (int64_t c = 0; c < width; ++c) {
        acc_w[c] += static_cast<double>(g[c]) * ((row[c] - mu) * s);
        acc_b[c] += g[c];
      }
    }
    for (int64_t c = 0; c < width; ++c) {
      dw[lo + c] = static_cast<float>(dw[lo + c] + acc_w[c]);
      db[lo + c] = static_cast<float>(db[lo + c] + acc_b[c]);
    }
  }
}

}  // namespace fast

namespace {

bool all_f32_contiguous(std::initializer_list<const View*> views) {
  for (const View* v : views)
    if (!fast::is_f32(*v) || !v->is_contiguous()) return false;
  return true;
}

}  // namespace

void FastBackend::layer_norm(const View& x, const View& weight, const View& bias, const View& y,
                             const View& mean, const View& rstd, float eps) {
  int64_t channels = x.shape.empty() ? 1 : x.shape.back();
  if (!all_f32_contiguous({&x, &weight, &bias, &y, &mean, &rstd}) || channels == 0)
    return ReferenceBackend::layer_norm(x, weight, bias, y, mean, rstd, eps);
  TS_ASSERT(weight.numel() == channels && bias.numel() == channels && y.numel() == x.numel());
  fast::layer_norm_rows(x.as<float>(), nullptr, nullptr, weight.as<float>(), bias.as<float>(), y.as<float>(),
                        mean.as<float>(), rstd.as<float>(), x.numel() / channels, channels, eps);
}

void FastBackend::layer_norm_backward(const View& dy, const View& x, const View& weight,
                                      const View& mean, const View& rstd, const View& dx,
                                      const View& dweight, const View& dbias) {
  int64_t channels = x.shape.empty() ? 1 : x.shape.back();
  if (!all_f32_contiguous({&dy, &x, &weight, &mean, &rstd, &dx, &dweight, &dbias}) || channels == 0)
    return ReferenceBackend::layer_norm_backward(dy, x, weight, mean, rstd, dx, dweight, dbias);
  TS_ASSERT(weight.numel() == channels && dy.numel() == x.numel() && dx.numel() == x.numel());
  fast::layer_norm_backward_rows(dy.as<float>(), nullptr, x.as<float>(), weight.as<float>(), mean.as<float>(),
                                 rstd.as<float>(), dx.as<float>(), dweight.as<float>(), dbias.as<float>(),
                                 x.numel() / channels, channels);
}

void FastBackend::embedding(const View& ids, const View& table, const View& out) {
  bool index_ok = ids.dtype == DType::I32 || ids.dtype == DType::I64;
  if (!index_ok || table.dtype != out.dtype || !ids.is_contiguous() || !table.is_contiguous() ||
      !out.is_contiguous() || table.shape.size() != 2)
    return ReferenceBackend::embedding(ids, table, out);
  int64_t count = ids.numel(), row_bytes = table.shape[1] * static_cast<int64_t>(dtype_size(table.dtype));
  const char* src = static_cast<const char*>(table.data);
  char* dst = static_cast<char*>(out.data);
#pragma omp parallel for schedule(static) if (count * row_bytes >= 4 * fast::kParallelMin)
  for (int64_t i = 0; i < count; ++i)
    std::memcpy(dst + i * row_bytes, src + load_index(ids, i) * row_bytes, static_cast<size_t>(row_bytes));
}

void FastBackend::embedding_backward(const View& ids, const View& dout, const View& dtable) {
  bool index_ok = ids.dtype == DType::I32 || ids.dtype == DType::I64;
  if (!index_ok || !all_f32_contiguous({&dout, &dtable}) || !ids.is_contiguous() ||
      dtable.shape.size() != 2)
    return ReferenceBackend::embedding_backward(ids, dout, dtable);
  int64_t count = ids.numel(), channels = dtable.shape[1];
  TS_ASSERT(dout.numel() == count * channels);
  const float* g = dout.as<float>();
  float* table = dtable.as<float>();
  // Column blocks in parallel; within a block the ids are added in order (deterministic).
  int64_t chunks = (channels + kColumns - 1) / kColumns;
#pragma omp parallel for schedule(static) if (count * channels >= fast::kParallelMin)
  for (int64_t t = 0; t < chunks; ++t) {
    int64_t lo = t * kColumns, width = std::min(kColumns, channels - lo);
    for (int64_t i = 0; i < count; ++i) {
      float* dst = table + load_index(ids, i) * channels + lo;
      const float* src = g + i * channels + lo;
      for (int64_t c = 0; c < width; ++c) dst[c] += src[c];
    }
  }
}

}  // namespace tessera
