// cpu-ref row-wise neural-network kernels: softmax, log-softmax, cross-entropy, layer norm and
// embedding, forward and backward.
#include <cmath>
#include <limits>

#include "backends/cpu/reference_backend.h"
#include "base/error.h"

namespace tessera {

namespace {

// Length of the last dimension (1 for a scalar).
int64_t row_length(const View& v) { return v.shape.empty() ? 1 : v.shape.back(); }

// log(sum(exp(row))) computed stably, in double.
double log_sum_exp(const float* row, int64_t n) {
  float max = -std::numeric_limits<float>::infinity();
  for (int64_t j = 0; j < n; ++j) max = std::max(max, row[j]);
  if (std::isinf(max)) return max;  // all -inf (or a +inf) row
  double sum = 0.0;
  for (int64_t j = 0; j < n; ++j) sum += std::exp(static_cast<double>(row[j]) - max);
  return max + std::log(sum);
}

}  // namespace

void ReferenceBackend::softmax(const View& x, const View& y) {
  std::vector<float> values = load_all(x);
  int64_t n = row_length(x);
  for (size_t start = 0; start < values.size(); start += n) {
    float* row = &values[start];
    double lse = log_sum_exp(row, n);
    for (int64_t j = 0; j < n; ++j) row[j] = static_cast<float>(std::exp(row[j] - lse));
  }
  store_all(y, values);
}

void ReferenceBackend::softmax_backward(const View& y, const View& dy, const View& dx) {
  // dx = y * (dy - sum(dy * y)) per row.
  std::vector<float> ys = load_all(y);
  std::vector<float> grads = load_all(dy);
  int64_t n = row_length(y);
  for (size_t start = 0; start < ys.size(); start += n) {
    double dot = 0.0;
    for (int64_t j = 0; j < n; ++j) dot += static_cast<double>(ys[start + j]) * grads[start + j];
    for (int64_t j = 0; j < n; ++j)
      grads[start + j] = ys[start + j] * (grads[start + j] - static_cast<float>(dot));
  }
  store_all(dx, grads);
}

void ReferenceBackend::log_softmax(const View& x, const View& y) {
  std::vector<float> values = load_all(x);
  int64_t n = row_length(x);
  for (size_t start = 0; start < values.size(); start += n) {
    float* row = &values[start];
    double lse = log_sum_exp(row, n);
    for (int64_t j = 0; j < n; ++j) row[j] = static_cast<float>(row[j] - lse);
  }
  store_all(y, values);
}

void ReferenceBackend::log_softmax_backward(const View& y, const View& dy, const View& dx) {
  // dx = dy - exp(y) * sum(dy) per row.
  std::vector<float> ys = load_all(y);
  std::vector<float> grads = load_all(dy);
  int64_t n = row_length(y);
  for (size_t start = 0; start < ys.size(); start += n) {
    double sum = 0.0;
    for (int64_t j = 0; j < n; ++j) sum += grads[start + j];
    for (int64_t j = 0; j < n; ++j)
      grads[start + j] -= std::exp(ys[start + j]) * static_cast<float>(sum);
  }
  store_all(dx, grads);
}

void ReferenceBackend::cross_entropy(const View& logits, const View& targets, const View& losses,
                                     const View& lse) {
  std::vector<float> values = load_all(logits);  // (N, V)
  int64_t vocab = row_length(logits);
  int64_t rows = targets.numel();
  TS_ASSERT(rows * vocab == static_cast<int64_t>(values.size()));
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = &values[r * vocab];
    double row_lse = log_sum_exp(row, vocab);
    int64_t target = load_index(targets, r);
    TS_ASSERT(target < vocab);
    store(lse, r, static_cast<float>(row_lse));
    store(losses, r, target < 0 ? 0.0f : static_cast<float>(row_lse - row[target]));
  }
}

void ReferenceBackend::cross_entropy_backward(const View& logits, const View& targets,
                                              const View& lse, const View& dlosses,
                                              const View& dlogits) {
  std::vector<float> values = load_all(logits);  // (N, V), becomes dlogits
  int64_t vocab = row_length(logits);
  int64_t rows = targets.numel();
  TS_ASSERT(rows * vocab == static_cast<int64_t>(values.size()));
  for (int64_t r = 0; r < rows; ++r) {
    float* row = &values[r * vocab];
    int64_t target = load_index(targets, r);
    TS_ASSERT(target < vocab);
    if (target < 0) {
      for (int64_t j = 0; j < vocab; ++j) row[j] = 0.0f;
      continue;
    }
    float row_lse = load(lse, r);
    float dloss = load(dlosses, r);
    for (int64_t j = 0; j < vocab; ++j) {
      float probability = std::exp(row[j] - row_lse);
      row[j] = dloss * (probability - (j == target ? 1.0f : 0.0f));
    }
  }
  store_all(dlogits, values);
}

void ReferenceBackend::layer_norm(const View& x, const View& weight, const View& bias,
                                  const View& y, const View& mean, const View& rstd, float eps) {
  std::vector<float> values = load_all(x);  // (rows, C), becomes y
  std::vector<float> w = load_all(weight);  // (C)
  std::vector<float> b = load_all(bias);    // (C)
  int64_t channels = row_length(x);
  TS_ASSERT(static_cast<int64_t>(w.size()) == channels && w.size() == b.size());
  for (size_t start = 0, r = 0; start < values.size(); start += channels, ++r) {
    float* row = &values[start];
    double sum = 0.0;
    for (int64_t c = 0; c < channels; ++c) sum += row[c];
    double row_mean = sum / channels;
    double squares = 0.0;
    for (int64_t c = 0; c < channels; ++c) squares += (row[c] - row_mean) * (row[c] - row_mean);
    double row_rstd = 1.0 / std::sqrt(squares / channels + eps);
    store(mean, r, static_cast<float>(row_mean));
    store(rstd, r, static_cast<float>(row_rstd));
    for (int64_t c = 0; c < channels; ++c)
      row[c] = static_cast<float>((row[c] - row_mean) * row_rstd) * w[c] + b[c];
  }
  store_all(y, values);
}

void ReferenceBackend::layer_norm_backward(const View& dy, const View& x, const View& weight,
                                           const View& mean, const View& rstd, const View& dx,
                                           const View& dweight, const View& dbias) {
  std::vector<float> grads = load_all(dy);  // (rows, C), becomes dx
  std::vector<float> xs = load_all(x);      // (rows, C)
  std::vector<float> w = load_all(weight);  // (C)
  int64_t channels = row_length(x);
  std::vector<double> dw(channels, 0.0), db(channels, 0.0);
  std::vector<double> xhat(channels), dxhat(channels);
  for (size_t start = 0, r = 0; start < xs.size(); start += channels, ++r) {
    float row_mean = load(mean, r);
    float row_rstd = load(rstd, r);
    double mean_dxhat = 0.0, mean_dxhat_xhat = 0.0;
    for (int64_t c = 0; c < channels; ++c) {
      xhat[c] = (static_cast<double>(xs[start + c]) - row_mean) * row_rstd;
      dxhat[c] = static_cast<double>(grads[start + c]) * w[c];
      mean_dxhat += dxhat[c] / channels;
      mean_dxhat_xhat += dxhat[c] * xhat[c] / channels;
      dw[c] += grads[start + c] * xhat[c];
      db[c] += grads[start + c];
    }
    for (int64_t c = 0; c < channels; ++c)
      grads[start + c] =
          static_cast<float>(row_rstd * (dxhat[c] - mean_dxhat - xhat[c] * mean_dxhat_xhat));
  }
  store_all(dx, grads);
  std::vector<float> old_dw = load_all(dweight), old_db = load_all(dbias);
  for (int64_t c = 0; c < channels; ++c) {
    dw[c] += old_dw[c];
    db[c] += old_db[c];
  }
  store_all(dweight, dw);
  store_all(dbias, db);
}

void ReferenceBackend::embedding(const View& ids, const View& table, const View& out) {
  int64_t channels = row_length(table);
  int64_t count = ids.numel();
  for (int64_t i = 0; i < count; ++i) {
    int64_t id = load_index(ids, i);
    for (int64_t c = 0; c < channels; ++c)
      store(out, i * channels + c, load(table, id * channels + c));
  }
}

void ReferenceBackend::embedding_backward(const View& ids, const View& dout, const View& dtable) {
  std::vector<float> old_table = load_all(dtable);  // (V, C)
  std::vector<double> table(old_table.begin(), old_table.end());
  std::vector<float> grads = load_all(dout);  // (N, C)
  int64_t channels = row_length(dtable);
  int64_t count = ids.numel();
  for (int64_t i = 0; i < count; ++i) {
    int64_t id = load_index(ids, i);
    for (int64_t c = 0; c < channels; ++c) table[id * channels + c] += grads[i * channels + c];
  }
  store_all(dtable, table);
}

}  // namespace tessera
