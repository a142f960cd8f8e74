// Row-wise softmax, log-softmax and cross-entropy of the fast CPU backend, forward and backward.
// Rows are independent (one thread each), 16 lanes at a time with the vector exp; a row's
// sums go through f32 lanes and are finished in double.
#include <omp.h>

#include <cmath>
#include <algorithm>
#include <limits>

#include "backends/cpu/fast_backend.h"
#include "backends/cpu/fast_simd.h"
#include "base/error.h"

namespace tessera {
namespace {

int64_t row_length(const View& v) { return v.shape.empty() ? 1 : v.shape.back(); }

float lanes_total(__m512 v) {
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, v);
  double sum = 0.0;
  for (float x : lanes) sum += x;
  return static_cast<float>(sum);
}

// log(sum(exp(row))) of a row of n floats; -inf or +inf when the maximum is infinite.
float row_lse(const float* row, int64_t n) {
  __m512 best = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  for (int64_t j = 0; j < n; j += 16) {
    __mmask16 m = fast::tail_mask(n - j);
    best = _mm512_mask_max_ps(best, m, best, fast::load(row + j, m));
  }
  float max = _mm512_reduce_max_ps(best);
  if (std::isinf(max)) return max;
  __m512 shift = _mm512_set1_ps(max), sum = _mm512_setzero_ps();
  for (int64_t j = 0; j < n; j += 16) {
    __mmask16 m = fast::tail_mask(n - j);
    __m512 e = fast::exp(_mm512_sub_ps(fast::load(row + j, m), shift));
    sum = _mm512_mask_add_ps(sum, m, sum, e);
  }
  return static_cast<float>(max + std::log(static_cast<double>(lanes_total(sum))));
}

// Runs body(row) for every row, threaded when there is enough work.
template <typename Body>
void for_each_row(int64_t rows, int64_t n, Body body) {
#pragma omp parallel for schedule(static) if (rows > 1 && rows * n >= fast::kParallelMin)
  for (int64_t r = 0; r < rows; ++r) body(r);
}

bool all_f32_contiguous(std::initializer_list<const View*> views) {
  for (const View* v : views)
    if (!fast::is_f32(*v) || !v->is_contiguous()) return false;
  return true;
}

// out[j] = f(x[j]) along a row.
template <typename F>
void row_map(const float* x, float* out, int64_t n, F f) {
  for (int64_t j = 0; j < n; j += 16) {
    __mmask16 m = fast::tail_mask(n - j);
    fast::store(out + j, f(fast::load(x + j, m), j), m);
  }
}

}  // namespace

void FastBackend::softmax(const View& x, const View& y) {
  int64_t n = row_length(x);
  if (!all_f32_contiguous({&x, &y}) || n == 0) return ReferenceBackend::softmax(x, y);
  const float* in = x.as<float>();
  float* out = y.as<float>();
  for_each_row(x.numel() / n, n, [&](int64_t r) {
    __m512 lse = _mm512_set1_ps(row_lse(in + r * n, n));
    row_map(in + r * n, out + r * n, n, [&](__m512 v, int64_t) { return fast::exp(_mm512_sub_ps(v, lse)); });
  });
}

void FastBackend::log_softmax(const View& x, const View& y) {
  int64_t n = row_length(x);
  if (!all_f32_contiguous({&x, &y}) || n == 0) return ReferenceBackend::log_softmax(x, y);
  const float* in = x.as<float>();
  float* out = y.as<float>();
  for_each_row(x.numel() / n, n, [&](int64_t r) {
    __m512 lse = _mm512_set1_ps(row_lse(in + r * n, n));
    row_map(in + r * n, out + r * n, n, [&](__m512 v, int64_t) { return _mm512_sub_ps(v, lse); });
  });
}

void FastBackend::softmax_backward(const View& y, const View& dy, const View& dx) {
  int64_t n = row_length(y);
  if (!all_f32_contiguous({&y, &dy, &dx}) || n == 0)
    return ReferenceBackend::softmax_backward(y, dy, dx);
  const float *ys = y.as<float>(), *gs = dy.as<float>();
  float* out = dx.as<float>();
  for_each_row(y.numel() / n, n, [&](int64_t r) {
    const float *yr = ys + r * n, *gr = gs + r * n;
    __m512 acc = _mm512_setzero_ps();
    for (int64_t j = 0; j < n; j += 16) {
      __mmask16 m = fast::tail_mask(n - j);
      acc = _mm512_fmadd_ps(fast::load(yr + j, m), fast::load(gr + j, m), acc);
    }
    __m512 dot = _mm512_set1_ps(lanes_total(acc));
    row_map(yr, out + r * n, n, [&](__m512 v, int64_t j) {
      return _mm512_mul_ps(v, _mm512_sub_ps(fast::load(gr + j, fast::tail_mask(n - j)), dot));
    });
  });
}

void FastBackend::log_softmax_backward(const View& y, const View& dy, const View& dx) {
  int64_t n = row_length(y);
  if (!all_f32_contiguous({&y, &dy, &dx}) || n == 0)
    return ReferenceBackend::log_softmax_backward(y, dy, dx);
  const float *ys = y.as<float>(), *gs = dy.as<float>();
  float* out = dx.as<float>();
  for_each_row(y.numel() / n, n, [&](int64_t r) {
    const float *yr = ys + r * n, *gr = gs + r * n;
    __m512 acc = _mm512_setzero_ps();
    for (int64_t j = 0; j < n; j += 16) acc = _mm512_add_ps(acc, fast::load(gr + j, fast::tail_mask(n - j)));
    __m512 sum = _mm512_set1_ps(lanes_total(acc));
    row_map(yr, out + r * n, n, [&](__m512 v, int64_t j) {
      return _mm512_fnmadd_ps(fast::exp(v), sum, fast::load(gr + j, fast::tail_mask(n - j)));
    });
  });
}

void FastBackend::cross_entropy(const View& logits, const View& targets, const View& losses,
                                const View& lse) {
  int64_t vocab = row_length(logits);
  if (!all_f32_contiguous({&logits, &losses, &lse}) || vocab == 0)
    return ReferenceBackend::cross_entropy(logits, targets, losses, lse);
  const float* in = logits.as<float>();
  float *loss_out = losses.as<float>(), *lse_out = lse.as<float>();
  TS_ASSERT(targets.numel() * vocab == logits.numel());
  for_each_row(targets.numel(), vocab, [&](int64_t r) {
    const float* row = in + r * vocab;
    float row_lse_value = row_lse(row, vocab);
    int64_t target = load_index(targets, r);
    TS_ASSERT(target < vocab);
    lse_out[r] = row_lse_value;
    loss_out[r] = target < 0 ? 0.0f : row_lse_value - row[target];
  });
}

void FastBackend::cross_entropy_backward(const View& logits, const View& targets, const View& lse,
                                         const View& dlosses, const View& dlogits) {
  int64_t vocab = row_length(logits);
  if (!all_f32_contiguous({&logits, &lse, &dlosses, &dlogits}) || vocab == 0)
    return ReferenceBackend::cross_entropy_backward(logits, targets, lse, dlosses, dlogits);
  const float *in = logits.as<float>(), *lses = lse.as<float>(), *dl = dlosses.as<float>();
  float* out = dlogits.as<float>();
  TS_ASSERT(targets.numel() * vocab == logits.numel() && dlogits.numel() == logits.numel());
  for_each_row(targets.numel(), vocab, [&](int64_t r) {
    int64_t target = load_index(targets, r);
    TS_ASSERT(target < vocab);
    float* grad = out + r * vocab;
    if (target < 0) {
      std::fill(grad, grad + vocab, 0.0f);
      return;
    }
    __m512 shift = _mm512_set1_ps(lses[r]), scale = _mm512_set1_ps(dl[r]);
    row_map(in + r * vocab, grad, vocab, [&](__m512 v, int64_t) {
      return _mm512_mul_ps(scale, fast::exp(_mm512_sub_ps(v, shift)));
    });
    grad[target] = dl[r] * (std::exp(in[r * vocab + target] - lses[r]) - 1.0f);
  });
}

}  // namespace tessera
