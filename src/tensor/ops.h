// Every tensor op, each with its backward pass. Ops run on the device of their inputs (all
// inputs on one device) and return new tensors; view ops (reshape, permute, transpose, slice)
// share storage. Shape errors name the op and the shapes involved.
#pragma once
#include <vector>

#include "tensor/tensor.h"

namespace tessera {

// Conversions and layout.
Tensor cast(const Tensor& x, DType dtype);
Tensor contiguous(const Tensor& x);
Tensor reshape(const Tensor& x, const Shape& shape);  // one dimension may be -1
Tensor permute(const Tensor& x, const std::vector<int64_t>& dims);
Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1);
Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end);  // [start, end)
Tensor concat(const std::vector<Tensor>& xs, int64_t dim);
// Materialises x broadcast to `shape` (numpy rules).
Tensor expand(const Tensor& x, const Shape& shape);
// Sums x over broadcast dimensions so that it has `shape` (the adjoint of expand).
Tensor sum_to(const Tensor& x, const Shape& shape);

// Elementwise, with broadcasting. Mixed float dtypes compute in the wider one (f32).
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor scale(const Tensor& x, float factor);       // x * factor
Tensor add_scalar(const Tensor& x, float value);   // x + value
Tensor neg(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor gelu(const Tensor& x);  // tanh approximation
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);

inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }

// Reductions. Negative dims count from the end.
Tensor sum(const Tensor& x);  // all elements -> shape ()
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);
Tensor max(const Tensor& x, int64_t dim, bool keepdim = false);  // gradient to the first arg-max
Tensor argmax(const Tensor& x, int64_t dim);                     // I64, no gradient

// Matrix product of the last two dimensions, with optional transposes; leading dimensions
// are batch dimensions (b may be 2-D and shared by every batch entry). (.., M, K) @ (.., K, N).
// The result has the inputs' dtype; narrow inputs (bf16) accumulate in f32.
Tensor matmul(const Tensor& a, const Tensor& b, bool transpose_a = false,
              bool transpose_b = false);

// Neural-network ops.
Tensor softmax(const Tensor& x);      // over the last dimension
Tensor log_softmax(const Tensor& x);  // over the last dimension
// Mean cross-entropy of logits (N, V) against class ids (N) (I32/I64; ids < 0 are ignored).
Tensor cross_entropy(const Tensor& logits, const Tensor& targets);
// Over the last dimension; weight and bias (C).
Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps = 1e-5f);
// ids (...) of I32/I64 in [0, V), table (V, C) -> (..., C).
Tensor embedding(const Tensor& ids, const Tensor& table);
// Causal scaled dot-product attention; q, k, v (B, H, T, D) -> (B, H, T, D).
Tensor causal_attention(const Tensor& q, const Tensor& k, const Tensor& v);
// Causal self-attention on a fused projection: qkv (B, T, 3C) holds q, k and v side by side,
// each cut into `heads` heads of C / heads channels -> (B, T, C), the heads' outputs side by
// side. The values of causal_attention on the permuted column blocks, without copying them:
// the kernels read q, k and v and write the output (and the gradient of qkv) at their strides.
Tensor causal_self_attention(const Tensor& qkv, int64_t heads);
// Inverted dropout: zeroes elements with probability p and scales the rest by 1/(1-p).
// Identity when !training or p == 0. Draws numel(x) counters from gen.
Tensor dropout(const Tensor& x, float p, Generator& gen, bool training);
// x (N, C, H, W), weight (O, C, KH, KW), bias (O) or undefined -> (N, O, OH, OW).
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, int64_t stride = 1,
              int64_t padding = 0);
// x (N, C, H, W) -> (N, C, OH, OW), windows kernel x kernel, no padding.
Tensor max_pool2d(const Tensor& x, int64_t kernel, int64_t stride);

// Fused ops (ops_fused.cpp): one kernel where the unfused ops take several, the same math.
// gelu(x + bias) (tanh form) for x (..., n) and bias (n); computes in the wider dtype, as add.
Tensor bias_gelu(const Tensor& x, const Tensor& bias);
// sum = x + r and normed = layer_norm(sum, weight, bias, eps) in one pass, for x and r of one
// shape (..., C); computes in the wider dtype of x and r. The gradients reaching sum and
// normed are combined by one backward kernel.
struct AddLayerNorm {
  Tensor sum, normed;
};
AddLayerNorm add_layer_norm(const Tensor& x, const Tensor& r, const Tensor& weight, const Tensor& bias,
                            float eps = 1e-5f);

}  // namespace tessera
