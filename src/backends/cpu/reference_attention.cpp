// cpu-ref causal scaled dot-product attention, forward and backward, one (batch, head) at a
// time: scores s[t, j] = scale * q[t] . k[j] for j <= t, p = softmax over j, out[t] = p @ v.
#include <cmath>

#include "backends/cpu/reference_backend.h"
#include "base/error.h"

namespace tessera {

namespace {

double dot(const float* a, const float* b, int64_t n) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(a[i]) * b[i];
  return sum;
}

struct AttentionDims {
  int64_t heads_total, seq, head_dim;  // B * H, T, D
};

AttentionDims attention_dims(const View& q) {
  TS_ASSERT(q.shape.size() == 4);
  return {q.shape[0] * q.shape[1], q.shape[2], q.shape[3]};
}

}  // namespace

void ReferenceBackend::attention(const View& q, const View& k, const View& v, const View& out,
                                 const View& lse, float scale) {
  auto [heads_total, seq, head_dim] = attention_dims(q);
  std::vector<float> qs = load_all(q), ks = load_all(k), vs = load_all(v);  // (B, H, T, D)
  std::vector<double> result(qs.size(), 0.0);                               // (B, H, T, D)
  std::vector<double> scores(seq);
  for (int64_t bh = 0; bh < heads_total; ++bh) {
    int64_t base = bh * seq * head_dim;
    for (int64_t t = 0; t < seq; ++t) {
      const float* query = &qs[base + t * head_dim];
      double max = -INFINITY;
      for (int64_t j = 0; j <= t; ++j) {
        scores[j] = static_cast<float>(scale * dot(query, &ks[base + j * head_dim], head_dim));
        max = std::max(max, scores[j]);
      }
      double sum = 0.0;
      for (int64_t j = 0; j <= t; ++j) sum += std::exp(scores[j] - max);
      double row_lse = max + std::log(sum);
      store(lse, bh * seq + t, static_cast<float>(row_lse));
      double* row = &result[base + t * head_dim];
      for (int64_t j = 0; j <= t; ++j) {
        double p = std::exp(scores[j] - row_lse);
        for (int64_t d = 0; d < head_dim; ++d) row[d] += p * vs[base + j * head_dim + d];
      }
    }
  }
  store_all(out, result);
}

void ReferenceBackend::attention_backward(const View& q, const View& k, const View& v,
                                          const View& out, const View& lse, const View& dout,
                                          const View& dq, const View& dk, const View& dv,
                                          float scale) {
  auto [heads_total, seq, head_dim] = attention_dims(q);
  std::vector<float> qs = load_all(q), ks = load_all(k), vs = load_all(v);  // (B, H, T, D)
  std::vector<float> outs = load_all(out), douts = load_all(dout);          // (B, H, T, D)
  std::vector<double> dqs(qs.size(), 0.0), dks(qs.size(), 0.0), dvs(qs.size(), 0.0);
  for (int64_t bh = 0; bh < heads_total; ++bh) {
    int64_t base = bh * seq * head_dim;
    for (int64_t t = 0; t < seq; ++t) {
      const float* query = &qs[base + t * head_dim];
      const float* grad_row = &douts[base + t * head_dim];
      float row_lse = load(lse, bh * seq + t);
      // sum_j p[t, j] * (dout[t] . v[j]) equals dout[t] . out[t].
      double row_delta = dot(grad_row, &outs[base + t * head_dim], head_dim);
      for (int64_t j = 0; j <= t; ++j) {
        const float* key = &ks[base + j * head_dim];
        const float* value = &vs[base + j * head_dim];
        float score = static_cast<float>(scale * dot(query, key, head_dim));
        double p = std::exp(static_cast<double>(score) - row_lse);
        double dp = dot(grad_row, value, head_dim);
        double dscore = p * (dp - row_delta) * scale;
        for (int64_t d = 0; d < head_dim; ++d) {
          dvs[base + j * head_dim + d] += p * grad_row[d];
          dqs[base + t * head_dim + d] += dscore * key[d];
          dks[base + j * head_dim + d] += dscore * query[d];
        }
      }
    }
  }
  store_all(dq, dqs);
  store_all(dk, dks);
  store_all(dv, dvs);
}

}  // namespace tessera
