// The backend interface: the narrow table of kernels every device implements.
//
// Contract:
// - Kernels work on Views of device memory that the backend allocated. Unless a kernel says
//   otherwise, every View is contiguous (row-major) and outputs are preallocated by the caller.
// - Float kernels compute in f32 whatever the storage dtype (bf16/f16/fp8 are widened on load
//   and rounded to nearest even on store); integer index inputs are I32 or I64.
// - A backend declares which (kernel, dtype) pairs it runs with `supports`; the tensor layer
//   refuses, or logs a fallback to the CPU (see dispatch.h), for the others.
// - Kernels never allocate user-visible memory and never change their inputs.
// Backends register themselves by name (REGISTER_BACKEND); adding one is a folder and a line in
// src/backends/CMakeLists.txt.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/dtype.h"
#include "base/shape.h"

namespace tessera {

// A typed window on device memory. `strides` are in elements.
struct View {
  void* data = nullptr;
  DType dtype = DType::F32;
  Shape shape;
  Strides strides;

  int64_t numel() const { return tessera::numel(shape); }
  bool is_contiguous() const { return strides == contiguous_strides(shape); }
  template <typename T>
  T* as() const { return static_cast<T*>(data); }
};

// Every kernel of the interface; `supports` is asked per (Kernel, dtype of the main operand).
enum class Kernel {
  Copy, Fill, Binary, Unary, UnaryBackward, Affine, Reduce, ReduceMax, ScatterAlong, Softmax,
  SoftmaxBackward, LogSoftmax, LogSoftmaxBackward, CrossEntropy, CrossEntropyBackward, LayerNorm,
  LayerNormBackward, Embedding, EmbeddingBackward, Attention, AttentionBackward, Matmul, Conv2d,
  Conv2dBackward, MaxPool2d, MaxPool2dBackward, DropoutMask, AdamW, SgdMomentum, SumSquares,
  BiasGelu, BiasGeluBackward, AddLayerNorm, AddLayerNormBackward, SumSquaresMany, ScaleMany, AdamWMany,
  Count
};
const char* kernel_name(Kernel kernel);

enum class BinaryOp { Add, Sub, Mul, Div };
enum class UnaryOp { Relu, Gelu, Exp, Log, Neg, Sqrt };
enum class ReduceOp { Sum, Max };

// Shapes of a batched matrix product out[b] = op(A[b]) @ op(B[b]) (+ out[b] when accumulate).
// A is (batch, M, K) or (batch, K, M) when transpose_a; B is (batch, K, N) or (batch, N, K)
// when transpose_b; out is (batch, M, N). A batch stride of 0 reuses one matrix for every b.
struct MatmulArgs {
  int64_t batch = 1, m = 0, n = 0, k = 0;
  bool transpose_a = false, transpose_b = false;
  int64_t batch_stride_a = 0, batch_stride_b = 0, batch_stride_out = 0;  // elements
  bool accumulate = false;
};

struct Conv2dArgs {
  int64_t stride = 1, padding = 0;
};

struct AdamWArgs {
  float lr = 1e-3f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f, weight_decay = 0.0f;
  int64_t step = 1;  // 1-based, for bias correction
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  virtual bool supports(Kernel kernel, DType dtype) const = 0;
  // True when device memory is ordinary host memory, so that the CPU backend can run a kernel
  // on it directly (the logged fallback for kernels this backend does not support).
  virtual bool host_addressable() const { return true; }
  // False for a backend whose kernels compute nothing ("record" only logs them); the kernel
  // and op harnesses test the backends that compute.
  virtual bool computes_values() const { return true; }

  // Memory. `allocate` returns zeroed, 64-byte aligned memory.
  virtual std::shared_ptr<void> allocate(size_t bytes) = 0;
  virtual void copy_from_host(void* dst, const void* host_src, size_t bytes) = 0;
  virtual void copy_to_host(void* host_dst, const void* src, size_t bytes) = 0;

  // dst = src elementwise, any strides on both sides (same shape), converting dtypes.
  virtual void copy(const View& src, const View& dst) = 0;
  virtual void fill(const View& dst, double value) = 0;
  // out = a op b; a and b may carry broadcast (zero) strides for out's shape; out contiguous.
  // out may be a itself (same memory and strides): the backward pass sums gradients in place.
  virtual void binary(BinaryOp op, const View& a, const View& b, const View& out) = 0;
  virtual void unary(UnaryOp op, const View& x, const View& out) = 0;
  // grad_in = grad_out * d op(x)/dx for Relu and Gelu (tanh form).
  virtual void unary_backward(UnaryOp op, const View& x, const View& grad_out,
                              const View& grad_in) = 0;
  // out = x * scale + shift.
  virtual void affine(const View& x, const View& out, float scale, float shift) = 0;
  // x is read as (outer, n, inner); out (outer, inner) = sum or max over n.
  virtual void reduce(ReduceOp op, const View& x, const View& out, int64_t outer, int64_t n,
                      int64_t inner) = 0;
  // As reduce Max, also writing the first arg-max index (I64) per output.
  virtual void reduce_max(const View& x, const View& out, const View& indices, int64_t outer,
                          int64_t n, int64_t inner) = 0;
  // out (outer, n, inner) = 0 except out[o, indices[o,i], i] = values[o, i].
  virtual void scatter_along(const View& values, const View& indices, const View& out,
                             int64_t outer, int64_t n, int64_t inner) = 0;
  // Row-wise over the last dimension of length n (rows = numel / n).
  virtual void softmax(const View& x, const View& y) = 0;
  virtual void softmax_backward(const View& y, const View& dy, const View& dx) = 0;
  virtual void log_softmax(const View& x, const View& y) = 0;
  virtual void log_softmax_backward(const View& y, const View& dy, const View& dx) = 0;
  // logits (N, V), targets (N) -> losses (N) = logsumexp(row) - row[target], lse (N, F32).
  // A target < 0 is ignored (loss 0, gradient 0).
  virtual void cross_entropy(const View& logits, const View& targets, const View& losses,
                             const View& lse) = 0;
  // dlogits = dlosses[row] * (softmax(row) - onehot(target)).
  virtual void cross_entropy_backward(const View& logits, const View& targets, const View& lse,
                                      const View& dlosses, const View& dlogits) = 0;
  // x (rows, C), weight and bias (C) -> y (rows, C), mean and rstd (rows, F32).
  virtual void layer_norm(const View& x, const View& weight, const View& bias, const View& y,
                          const View& mean, const View& rstd, float eps) = 0;
  // dx = full input gradient; dweight and dbias are accumulated into (+=).
  virtual void layer_norm_backward(const View& dy, const View& x, const View& weight,
                                   const View& mean, const View& rstd, const View& dx,
                                   const View& dweight, const View& dbias) = 0;
  // ids (N), table (V, C) -> out (N, C). Ids are checked in range by the caller.
  virtual void embedding(const View& ids, const View& table, const View& out) = 0;
  // dtable[ids[i]] += dout[i] (dtable is accumulated into).
  virtual void embedding_backward(const View& ids, const View& dout, const View& dtable) = 0;
  // Causal scaled dot-product attention. q, k, v, out (and dout, dq, dk, dv): (B, H, T, D) views,
  // packed or strided (q, k and v may be column blocks of one (B, T, 3C) tensor, out and dq, dk,
  // dv likewise inside (B, T, C) and (B, T, 3C)); lse: packed (B, H, T) F32 holds each query
  // row's log-sum-exp of scaled scores, kept for the backward pass.
  virtual void attention(const View& q, const View& k, const View& v, const View& out,
                         const View& lse, float scale) = 0;
  virtual void attention_backward(const View& q, const View& k, const View& v, const View& out,
                                  const View& lse, const View& dout, const View& dq,
                                  const View& dk, const View& dv, float scale) = 0;
  virtual void matmul(const View& a, const View& b, const View& out, const MatmulArgs& args) = 0;
  // x (N, C, H, W), weight (O, C, KH, KW), bias (O) or data == nullptr -> y (N, O, OH, OW).
  virtual void conv2d(const View& x, const View& weight, const View& bias, const View& y,
                      const Conv2dArgs& args) = 0;
  // dx (overwritten), dweight and dbias (accumulated into; dbias may have data == nullptr).
  virtual void conv2d_backward(const View& x, const View& weight, const View& dy, const View& dx,
                               const View& dweight, const View& dbias,
                               const Conv2dArgs& args) = 0;
  // x (N, C, H, W) -> y (N, C, OH, OW), indices (I64, flat position within the H*W plane).
  virtual void max_pool2d(const View& x, const View& y, const View& indices, int64_t kernel,
                          int64_t stride) = 0;
  virtual void max_pool2d_backward(const View& dy, const View& indices, const View& dx) = 0;
  // mask[i] = (random_uniform(seed, counter + i) >= p) / (1 - p).
  virtual void dropout_mask(const View& mask, float p, uint64_t seed, uint64_t counter) = 0;
  // One AdamW update with PyTorch semantics (decoupled weight decay), in place on param, m, v.
  virtual void adamw(const View& param, const View& grad, const View& m, const View& v,
                     const AdamWArgs& args) = 0;
  // velocity = momentum * velocity + grad (+ wd * param); param -= lr * velocity.
  virtual void sgd_momentum(const View& param, const View& grad, const View& velocity, float lr,
                            float momentum, float weight_decay) = 0;
  // Sum of squares of all elements, accumulated in double.
  virtual double sum_squares(const View& x) = 0;

  // Multi-tensor ("foreach") kernels: one call, and on a device one launch, for a list of
  // tensors (gradient clipping, AdamW). `supports` is asked with each view's dtype.
  // The sum of sum_squares over the views (0 for an empty list).
  virtual double sum_squares_many(std::span<const View> xs) = 0;
  // outs[i] = xs[i] * factor, elementwise as affine(xs[i], outs[i], factor, 0) computes it
  // (xs and outs of one length, each pair of one shape and dtype).
  virtual void scale_many(std::span<const View> xs, std::span<const View> outs, float factor) = 0;
  // adamw(params[i], grads[i], ms[i], vs[i], args[i]) for each i, bit for bit (the lists of one
  // length, the i-th views of one shape; no two parameters or moments share memory).
  virtual void adamw_many(std::span<const View> params, std::span<const View> grads, std::span<const View> ms,
                          std::span<const View> vs, std::span<const AdamWArgs> args) = 0;

  // Fused kernels (one memory pass where the unfused ops take several).
  // x (rows, n), bias (n) -> y (rows, n) = gelu(x + bias), tanh form; x + bias stays f32.
  virtual void bias_gelu(const View& x, const View& bias, const View& y) = 0;
  // dx (rows, n) = dy * gelu'(x + bias), overwritten; dbias (n) += the column sums of dx (in
  // f32, before dx is stored in its dtype).
  virtual void bias_gelu_backward(const View& x, const View& bias, const View& dy, const View& dx,
                                  const View& dbias) = 0;
  // x, r (rows, C) -> s = x + r (rows, C), and y (rows, C), mean and rstd (rows, F32) as
  // layer_norm gives them for s (as stored) with weight and bias (C).
  virtual void add_layer_norm(const View& x, const View& r, const View& weight, const View& bias,
                              const View& s, const View& y, const View& mean, const View& rstd,
                              float eps) = 0;
  // dx = layer_norm_backward's dx for dy at s, plus ds (the gradient s receives from its other
  // uses; data == nullptr: none): the gradient of both x and r. dweight and dbias accumulate.
  virtual void add_layer_norm_backward(const View& dy, const View& ds, const View& s,
                                       const View& weight, const View& mean, const View& rstd,
                                       const View& dx, const View& dweight, const View& dbias) = 0;
};

// Registry of backends by name ("cpu", "cpu-ref", "chip:t1", ...). Backends are created once.
using BackendFactory = std::function<std::unique_ptr<Backend>()>;
void register_backend(const std::string& name, BackendFactory factory);
// The backend of that name, created on first use; an Error lists the registered names.
Backend& backend(const std::string& name);
std::vector<std::string> backend_names();
// The registered backends whose kernels compute values (creates each backend to ask it).
std::vector<std::string> computing_backend_names();

struct BackendRegistrar {
  BackendRegistrar(const std::string& name, BackendFactory factory) {
    register_backend(name, std::move(factory));
  }
};

}  // namespace tessera

#define TS_CONCAT_INNER(a, b) a##b
#define TS_CONCAT(a, b) TS_CONCAT_INNER(a, b)
#define REGISTER_BACKEND(name, Type) \
  static ::tessera::BackendRegistrar TS_CONCAT(backend_registrar_, __LINE__)( \
      name, [] { return std::make_unique<Type>(); })
