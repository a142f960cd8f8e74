// cpu-ref: the reference CPU backend. Plain loops in f32 (double for sums where it matters),
// written to be obviously right, not fast. Every other backend is tested against it, and the
// fast CPU backend ("cpu", fast_backend.h) inherits it for the kernels it does not speed up.
#pragma once
#include <vector>

#include "backends/backend.h"

namespace tessera {

class ReferenceBackend : public Backend {
 public:
  std::string name() const override;
  bool supports(Kernel kernel, DType dtype) const override;
  std::shared_ptr<void> allocate(size_t bytes) override;
  void copy_from_host(void* dst, const void* host_src, size_t bytes) override;
  void copy_to_host(void* host_dst, const void* src, size_t bytes) override;
  void copy(const View& src, const View& dst) override;
  void fill(const View& dst, double value) override;
  void binary(BinaryOp op, const View& a, const View& b, const View& out) override;
  void unary(UnaryOp op, const View& x, const View& out) override;
  void unary_backward(UnaryOp op, const View& x, const View& grad_out, const View& grad_in) override;
  void affine(const View& x, const View& out, float scale, float shift) override;
  void reduce(ReduceOp op, const View& x, const View& out, int64_t outer, int64_t n, int64_t inner) override;
  void reduce_max(const View& x, const View& out, const View& indices, int64_t outer, int64_t n, int64_t inner) override;
  void scatter_along(const View& values, const View& indices, const View& out, int64_t outer, int64_t n, int64_t inner) override;
  void softmax(const View& x, const View& y) override;
  void softmax_backward(const View& y, const View& dy, const View& dx) override;
  void log_softmax(const View& x, const View& y) override;
  void log_softmax_backward(const View& y, const View& dy, const View& dx) override;
  void cross_entropy(const View& logits, const View& targets, const View& losses, const View& lse) override;
  void cross_entropy_backward(const View& logits, const View& targets, const View& lse, const View& dlosses, const View& dlogits) override;
  void layer_norm(const View& x, const View& weight, const View& bias, const View& y, const View& mean, const View& rstd, float eps) override;
  void layer_norm_backward(const View& dy, const View& x, const View& weight, const View& mean, const View& rstd, const View& dx, const View& dweight, const View& dbias) override;
  void embedding(const View& ids, const View& table, const View& out) override;
  void embedding_backward(const View& ids, const View& dout, const View& dtable) override;
  void attention(const View& q, const View& k, const View& v, const View& out, const View& lse, float scale) override;
  void attention_backward(const View& q, const View& k, const View& v, const View& out, const View& lse, const View& dout, const View& dq, const View& dk, const View& dv, float scale) override;
  void matmul(const View& a, const View& b, const View& out, const MatmulArgs& args) override;
  void conv2d(const View& x, const View& weight, const View& bias, const View& y, const Conv2dArgs& args) override;
  void conv2d_backward(const View& x, const View& weight, const View& dy, const View& dx, const View& dweight, const View& dbias, const Conv2dArgs& args) override;
  void max_pool2d(const View& x, const View& y, const View& indices, int64_t kernel, int64_t stride) override;
  void max_pool2d_backward(const View& dy, const View& indices, const View& dx) override;
  void dropout_mask(const View& mask, float p, uint64_t seed, uint64_t counter) override;
  void adamw(const View& param, const View& grad, const View& m, const View& v, const AdamWArgs& args) override;
  void sgd_momentum(const View& param, const View& grad, const View& velocity, float lr, float momentum, float weight_decay) override;
  double sum_squares(const View& x) override;
  // The per-view kernels in list order (reference_foreach.cpp), so that a subclass's faster
  // sum_squares and affine serve them too.
  double sum_squares_many(std::span<const View> xs) override;
  void scale_many(std::span<const View> xs, std::span<const View> outs, float factor) override;
  void adamw_many(std::span<const View> params, std::span<const View> grads, std::span<const View> ms,
                  std::span<const View> vs, std::span<const AdamWArgs> args) override;
  // reference_fused.cpp
  void bias_gelu(const View& x, const View& bias, const View& y) override;
  void bias_gelu_backward(const View& x, const View& bias, const View& dy, const View& dx, const View& dbias) override;
  void add_layer_norm(const View& x, const View& r, const View& weight, const View& bias, const View& s,
                      const View& y, const View& mean, const View& rstd, float eps) override;
  void add_layer_norm_backward(const View& dy, const View& ds, const View& s, const View& weight, const View& mean,
                               const View& rstd, const View& dx, const View& dweight, const View& dbias) override;

 protected:
  // Element access by offset (in elements) for any dtype: floats widen to f32 on load and round
  // to nearest even on store; integers convert to f32 on load and truncate toward zero on store.
  static float load(const View& v, int64_t offset);
  static void store(const View& v, int64_t offset, float value);
  // Index elements (I32 or I64; float dtypes are read as their value truncated).
  static int64_t load_index(const View& v, int64_t offset);
  static void store_index(const View& v, int64_t offset, int64_t value);
  // Offsets of every element of (shape, strides), in row-major order of shape.
  static std::vector<int64_t> element_offsets(const Shape& shape, const Strides& strides);
  // The whole view (any strides) as f32 in row-major order, and a row-major store back into it.
  static std::vector<float> load_all(const View& v);
  static void store_all(const View& v, const std::vector<float>& values);
  static void store_all(const View& v, const std::vector<double>& values);
};

}  // namespace tessera
