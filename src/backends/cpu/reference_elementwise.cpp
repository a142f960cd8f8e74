// cpu-ref elementwise kernels, reductions along an axis, scatter, dropout masks, sum of squares.
#include <cmath>
#include <limits>

#include "backends/cpu/reference_backend.h"
#include "base/error.h"
#include "base/random.h"

namespace tessera {

namespace {

constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kGeluCubic = 0.044715f;

float gelu(float x) {
  float u = kSqrt2OverPi * (x + kGeluCubic * x * x * x);
  return 0.5f * x * (1.0f + std::tanh(u));
}

// d gelu / dx of the tanh form.
float gelu_derivative(float x) {
  float u = kSqrt2OverPi * (x + kGeluCubic * x * x * x);
  float t = std::tanh(u);
  float du_dx = kSqrt2OverPi * (1.0f + 3.0f * kGeluCubic * x * x);
  return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * du_dx;
}

const char* unary_op_name(UnaryOp op) {
  switch (op) {
    case UnaryOp::Relu:
      return "relu";
    case UnaryOp::Gelu:
      return "gelu";
    case UnaryOp::Exp:
      return "exp";
    case UnaryOp::Log:
      return "log";
    case UnaryOp::Neg:
      return "neg";
    case UnaryOp::Sqrt:
      return "sqrt";
  }
  return "?";
}

// True when `value` should replace `best` as the running maximum: larger, or the first NaN
// (NaN propagates, as in PyTorch). Ties keep the earlier element.
bool replaces_max(float value, float best) {
  if (std::isnan(best)) return false;
  return value > best || std::isnan(value);
}

}  // namespace

void ReferenceBackend::binary(BinaryOp op, const View& a, const View& b, const View& out) {
  // a and b are read with their own strides over out's shape (zero strides broadcast).
  std::vector<int64_t> a_offsets = element_offsets(out.shape, a.strides);
  std::vector<int64_t> b_offsets = element_offsets(out.shape, b.strides);
  std::vector<float> result(a_offsets.size());
  for (size_t i = 0; i < result.size(); ++i) {
    float x = load(a, a_offsets[i]);
    float y = load(b, b_offsets[i]);
    switch (op) {
      case BinaryOp::Add:
        result[i] = x + y;
        break;
      case BinaryOp::Sub:
        result[i] = x - y;
        break;
      case BinaryOp::Mul:
        result[i] = x * y;
        break;
      case BinaryOp::Div:
        result[i] = x / y;
        break;
    }
  }
  store_all(out, result);
}

void ReferenceBackend::unary(UnaryOp op, const View& x, const View& out) {
  std::vector<float> values = load_all(x);
  for (float& v : values) {
    switch (op) {
      case UnaryOp::Relu:
        v = v > 0.0f ? v : 0.0f;
        break;
      case UnaryOp::Gelu:
        v = gelu(v);
        break;
      case UnaryOp::Exp:
        v = std::exp(v);
        break;
      case UnaryOp::Log:
        v = std::log(v);
        break;
      case UnaryOp::Neg:
        v = -v;
        break;
      case UnaryOp::Sqrt:
        v = std::sqrt(v);
        break;
    }
  }
  store_all(out, values);
}

void ReferenceBackend::unary_backward(UnaryOp op, const View& x, const View& grad_out,
                                      const View& grad_in) {
  if (op != UnaryOp::Relu && op != UnaryOp::Gelu)
    fail("unary_backward: op '{}' has no backward kernel (only relu and gelu do)",
         unary_op_name(op));
  std::vector<float> xs = load_all(x);
  std::vector<float> grads = load_all(grad_out);
  TS_ASSERT(xs.size() == grads.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    float derivative = op == UnaryOp::Relu ? (xs[i] > 0.0f ? 1.0f : 0.0f) : gelu_derivative(xs[i]);
    grads[i] *= derivative;
  }
  store_all(grad_in, grads);
}

void ReferenceBackend::affine(const View& x, const View& out, float scale, float shift) {
  std::vector<float> values = load_all(x);
  for (float& v : values) v = v * scale + shift;
  store_all(out, values);
}

void ReferenceBackend::reduce(ReduceOp op, const View& x, const View& out, int64_t outer, int64_t n,
                              int64_t inner) {
  std::vector<float> values = load_all(x);  // (outer, n, inner)
  TS_ASSERT(static_cast<int64_t>(values.size()) == outer * n * inner);
  std::vector<double> result(static_cast<size_t>(outer * inner));  // (outer, inner)
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      double sum = 0.0;
      float best = -std::numeric_limits<float>::infinity();
      for (int64_t j = 0; j < n; ++j) {
        float v = values[(o * n + j) * inner + i];
        sum += v;
        if (replaces_max(v, best)) best = v;
      }
      result[o * inner + i] = op == ReduceOp::Sum ? sum : best;
    }
  }
  store_all(out, result);
}

void ReferenceBackend::reduce_max(const View& x, const View& out, const View& indices,
                                  int64_t outer, int64_t n, int64_t inner) {
  std::vector<float> values = load_all(x);  // (outer, n, inner)
  TS_ASSERT(static_cast<int64_t>(values.size()) == outer * n * inner);
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      float best = -std::numeric_limits<float>::infinity();
      int64_t best_index = 0;
      for (int64_t j = 0; j < n; ++j) {
        float v = values[(o * n + j) * inner + i];
        if (j == 0 || replaces_max(v, best)) {
          best = v;
          best_index = j;
        }
      }
      store(out, o * inner + i, best);
      store_index(indices, o * inner + i, best_index);
    }
  }
}

void ReferenceBackend::scatter_along(const View& values, const View& indices, const View& out,
                                     int64_t outer, int64_t n, int64_t inner) {
  std::vector<float> result(static_cast<size_t>(outer * n * inner), 0.0f);  // (outer, n, inner)
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      int64_t j = load_index(indices, o * inner + i);
      TS_ASSERT(j >= 0 && j < n);
      result[(o * n + j) * inner + i] = load(values, o * inner + i);
    }
  }
  store_all(out, result);
}

void ReferenceBackend::dropout_mask(const View& mask, float p, uint64_t seed, uint64_t counter) {
  float keep_scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
  int64_t count = mask.numel();
  for (int64_t i = 0; i < count; ++i) {
    bool keep = random_uniform(seed, counter + static_cast<uint64_t>(i)) >= p;
    store(mask, i, keep ? keep_scale : 0.0f);
  }
}

double ReferenceBackend::sum_squares(const View& x) {
  double sum = 0.0;
  for (float v : load_all(x)) sum += static_cast<double>(v) * v;
  return sum;
}

}  // namespace tessera
