// Causal attention of the fast CPU backend: one (batch, head) per task, each a few sgemm calls
// on the calling thread around a vectorised masked softmax. BF16 heads, and heads whose rows
// are strided (q, k, v read from a (B, T, 3C) projection), are gathered into packed f32 per
// task and the outputs scattered back, so they keep the packed f32 path's speed. Probabilities are recomputed from
// the saved log-sum-exp in the backward pass, as in the reference.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "backends/cpu/fast_backend.h"
#include "backends/cpu/fast_gemm.h"
#include "backends/cpu/fast_simd.h"

namespace tessera {
namespace {

bool all_f32_contiguous(std::initializer_list<const View*> views) {
  for (const View* v : views)
    if (!fast::is_f32(*v) || !v->is_contiguous()) return false;
  return true;
}

// Row t of scores (T, T) keeps columns j <= t; the others become 0 after exp.
// p[t, j] = exp(s[t, j] - lse[t]) for j <= t, else 0.
void causal_probabilities(float* s, const float* lse, int64_t seq) {
  for (int64_t t = 0; t < seq; ++t) {
    float* row = s + t * seq;
    __m512 shift = _mm512_set1_ps(lse[t]);
    for (int64_t j = 0; j < seq; j += 16) {
      __mmask16 keep = fast::tail_mask(std::max<int64_t>(0, t + 1 - j));
      __m512 p = fast::exp(_mm512_sub_ps(fast::load(row + j, fast::tail_mask(seq - j)), shift));
      fast::store(row + j, _mm512_maskz_mov_ps(keep, p), fast::tail_mask(seq - j));
    }
  }
}

// lse[t] = log sum_{j <= t} exp(s[t, j]).
void causal_lse(const float* s, float* lse, int64_t seq) {
  for (int64_t t = 0; t < seq; ++t) {
    const float* row = s + t * seq;
    int64_t n = t + 1;
    __m512 best = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
    for (int64_t j = 0; j < n; j += 16) {
      __mmask16 m = fast::tail_mask(n - j);
      best = _mm512_mask_max_ps(best, m, best, fast::load(row + j, m));
    }
    float max = _mm512_reduce_max_ps(best);
    if (std::isinf(max)) {
      lse[t] = max;
      continue;
    }
    __m512 shift = _mm512_set1_ps(max), sum = _mm512_setzero_ps();
    for (int64_t j = 0; j < n; j += 16) {
      __mmask16 m = fast::tail_mask(n - j);
      sum = _mm512_mask_add_ps(sum, m, sum, fast::exp(_mm512_sub_ps(fast::load(row + j, m), shift)));
    }
    lse[t] = max + std::log(_mm512_reduce_add_ps(sum));
  }
}

// One head's f32 (T, D) rows of a (B, H, T, D) view whose D elements are contiguous: the data
// itself for a packed F32 view; otherwise a packed f32 copy in `scratch`, gathered (inputs) or
// scattered back by `finish` (outputs), bf16 widened and rounded on the way.
class HeadSlice {
 public:
  HeadSlice(const View& v, int64_t head, std::vector<float>& scratch, bool is_input)
      : view_(v), seq_(v.shape[2]), dim_(v.shape[3]), row_stride_(v.strides[2]) {
    offset_ = (head / v.shape[1]) * v.strides[0] + (head % v.shape[1]) * v.strides[1];
    if (v.dtype == DType::F32 && v.is_contiguous()) {
      data_ = v.as<float>() + offset_;
      in_place_ = true;
      return;
    }
    scratch.resize(static_cast<size_t>(seq_ * dim_));
    data_ = scratch.data();
    if (!is_input) return;
    for (int64_t t = 0; t < seq_; ++t) {
      if (v.dtype == DType::F32)
        transfer(v.as<float>() + offset_ + t * row_stride_, data_ + t * dim_, dim_);
      else
        transfer(v.as<fast::bf16>() + offset_ + t * row_stride_, data_ + t * dim_, dim_);
    }
  }
  float* data() const { return data_; }
  void finish() const {
    if (in_place_) return;
    for (int64_t t = 0; t < seq_; ++t) {
      if (view_.dtype == DType::F32)
        transfer(data_ + t * dim_, view_.as<float>() + offset_ + t * row_stride_, dim_);
      else
        transfer(data_ + t * dim_, view_.as<fast::bf16>() + offset_ + t * row_stride_, dim_);
    }
  }

 private:
  template <typename From, typename To>
  static void transfer(const From* in, To* out, int64_t n) {
    for (int64_t i = 0; i < n; i += 16) {
      __mmask16 m = fast::tail_mask(n - i);
      fast::store(out + i, fast::load(in + i, m), m);
    }
  }
  const View& view_;
  int64_t seq_, dim_, row_stride_, offset_ = 0;
  float* data_;
  bool in_place_ = false;
};

// q, k, v, out (and the gradients) all F32 or all BF16, (B, H, T, D) with contiguous D
// elements and non-negative strides; lse F32 and packed.
bool supported(std::initializer_list<const View*> tensors, const View& lse) {
  DType dtype = (*tensors.begin())->dtype;
  if (!fast::is_f32_or_bf16(**tensors.begin()) || !all_f32_contiguous({&lse})) return false;
  for (const View* v : tensors) {
    if (v->dtype != dtype || v->shape.size() != 4 || v->strides[3] != 1) return false;
    for (int64_t stride : v->strides)
      if (stride < 0) return false;
  }
  return true;
}

}  // namespace

void FastBackend::attention(const View& q, const View& k, const View& v, const View& out,
                            const View& lse, float scale) {
  if (!supported({&q, &k, &v, &out}, lse))
    return ReferenceBackend::attention(q, k, v, out, lse, scale);
  int64_t heads = q.shape[0] * q.shape[1], seq = q.shape[2], dim = q.shape[3];
  if (seq == 0 || dim == 0) return ReferenceBackend::attention(q, k, v, out, lse, scale);
  float* lses = lse.as<float>();
#pragma omp parallel for schedule(static) if (heads > 1)
  for (int64_t h = 0; h < heads; ++h) {
    thread_local std::vector<float> scores, qw, kw, vw, ow;
    scores.resize(static_cast<size_t>(seq * seq));
    HeadSlice qh(q, h, qw, true), kh(k, h, kw, true), vh(v, h, vw, true);
    HeadSlice oh(out, h, ow, false);
    // scores (T, T) = scale * q @ k^T; p = causal softmax; out (T, D) = p @ v.
    fast::sgemm(false, true, seq, seq, dim, scale, qh.data(), kh.data(), 0.0f, scores.data());
    causal_lse(scores.data(), lses + h * seq, seq);
    causal_probabilities(scores.data(), lses + h * seq, seq);
    fast::sgemm(false, false, seq, dim, seq, 1.0f, scores.data(), vh.data(), 0.0f, oh.data());
    oh.finish();
  }
}

void FastBackend::attention_backward(const View& q, const View& k, const View& v, const View& out,
                                     const View& lse, const View& dout, const View& dq,
                                     const View& dk, const View& dv, float scale) {
  if (!supported({&q, &k, &v, &out, &dout, &dq, &dk, &dv}, lse))
    return ReferenceBackend::attention_backward(q, k, v, out, lse, dout, dq, dk, dv, scale);
  int64_t heads = q.shape[0] * q.shape[1], seq = q.shape[2], dim = q.shape[3];
  if (seq == 0 || dim == 0)
    return ReferenceBackend::attention_backward(q, k, v, out, lse, dout, dq, dk, dv, scale);
  const float* lses = lse.as<float>();
#pragma omp parallel for schedule(static) if (heads > 1)
  for (int64_t h = 0; h < heads; ++h) {
    thread_local std::vector<float> probs, dprobs, qw, kw, vw, ow, gw, dqw, dkw, dvw;
    probs.resize(static_cast<size_t>(seq * seq));
    dprobs.resize(static_cast<size_t>(seq * seq));
    HeadSlice qs(q, h, qw, true), ks(k, h, kw, true), vs(v, h, vw, true);
    HeadSlice os(out, h, ow, true), gs(dout, h, gw, true);
    HeadSlice dqs(dq, h, dqw, false), dks(dk, h, dkw, false), dvs(dv, h, dvw, false);
    const float *qh = qs.data(), *kh = ks.data(), *vh = vs.data(), *gh = gs.data(), *oh = os.data();
    // p (T, T) from the saved lse; dv = p^T @ dout; dp = dout @ v^T.
    fast::sgemm(false, true, seq, seq, dim, scale, qh, kh, 0.0f, probs.data());
    causal_probabilities(probs.data(), lses + h * seq, seq);
    fast::sgemm(true, false, seq, dim, seq, 1.0f, probs.data(), gh, 0.0f, dvs.data());
    fast::sgemm(false, true, seq, seq, dim, 1.0f, gh, vh, 0.0f, dprobs.data());
    // dscore = p * (dp - dout[t] . out[t]) * scale, in place in dprobs.
    for (int64_t t = 0; t < seq; ++t) {
      __m512 acc = _mm512_setzero_ps();
      for (int64_t d = 0; d < dim; d += 16) {
        __mmask16 m = fast::tail_mask(dim - d);
        acc = _mm512_fmadd_ps(fast::load(gh + t * dim + d, m), fast::load(oh + t * dim + d, m), acc);
      }
      __m512 delta = _mm512_set1_ps(_mm512_reduce_add_ps(acc)), sc = _mm512_set1_ps(scale);
      float *p = probs.data() + t * seq, *dp = dprobs.data() + t * seq;
      for (int64_t j = 0; j < seq; j += 16) {
        __mmask16 m = fast::tail_mask(seq - j);
        __m512 ds = _mm512_mul_ps(_mm512_mul_ps(fast::load(p + j, m), _mm512_sub_ps(fast::load(dp + j, m), delta)), sc);
        fast::store(dp + j, ds, m);
      }
    }
    // dq = dscore @ k; dk = dscore^T @ q.
    fast::sgemm(false, false, seq, dim, seq, 1.0f, dprobs.data(), kh, 0.0f, dqs.data());
    fast::sgemm(true, false, seq, dim, seq, 1.0f, dprobs.data(), qh, 0.0f, dks.data());
    dqs.finish();
    dks.finish();
    dvs.finish();
  }
}

}  // namespace tessera
