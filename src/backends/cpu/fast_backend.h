// cpu: the fast CPU backend and the framework's default device. It inherits cpu-ref
// (reference_backend.h) and overrides the kernels that dominate training time with OpenBLAS
// sgemm, AVX-512 loops and OpenMP threads, for F32 (and BF16 where the widening is cheap).
// Every other dtype or case calls the inherited reference kernel, so semantics never differ.
//
// Determinism: every parallel loop splits its work into pieces that depend only on the shapes,
// never on the thread count, and reductions combine partial results in a fixed order, so the
// results are bit-identical for any OMP_NUM_THREADS.
#pragma once
#include <memory>

#include "backends/cpu/host_block_cache.h"
#include "backends/cpu/reference_backend.h"

namespace tessera {

class FastBackend : public ReferenceBackend {
 public:
  FastBackend();
  ~FastBackend() override;
  std::string name() const override;

  // From a HostBlockCache: large blocks are recycled by size (zeroed again on reuse).
  std::shared_ptr<void> allocate(size_t bytes) override;

  // fast_elementwise.cpp
  void copy(const View& src, const View& dst) override;
  void fill(const View& dst, double value) override;
  void binary(BinaryOp op, const View& a, const View& b, const View& out) override;
  void unary(UnaryOp op, const View& x, const View& out) override;
  void unary_backward(UnaryOp op, const View& x, const View& grad_out,
                      const View& grad_in) override;
  void affine(const View& x, const View& out, float scale, float shift) override;
  void dropout_mask(const View& mask, float p, uint64_t seed, uint64_t counter) override;

  // fast_reduce.cpp
  void reduce(ReduceOp op, const View& x, const View& out, int64_t outer, int64_t n,
              int64_t inner) override;
  double sum_squares(const View& x) override;

  // fast_softmax.cpp
  void softmax(const View& x, const View& y) override;
  void softmax_backward(const View& y, const View& dy, const View& dx) override;
  void log_softmax(const View& x, const View& y) override;
  void log_softmax_backward(const View& y, const View& dy, const View& dx) override;
  void cross_entropy(const View& logits, const View& targets, const View& losses,
                     const View& lse) override;
  void cross_entropy_backward(const View& logits, const View& targets, const View& lse,
                              const View& dlosses, const View& dlogits) override;

  // fast_nn.cpp
  void layer_norm(const View& x, const View& weight, const View& bias, const View& y,
                  const View& mean, const View& rstd, float eps) override;
  void layer_norm_backward(const View& dy, const View& x, const View& weight, const View& mean,
                           const View& rstd, const View& dx, const View& dweight,
                           const View& dbias) override;
  void embedding(const View& ids, const View& table, const View& out) override;
  void embedding_backward(const View& ids, const View& dout, const View& dtable) override;

  // fast_attention.cpp
  void attention(const View& q, const View& k, const View& v, const View& out, const View& lse,
                 float scale) override;
  void attention_backward(const View& q, const View& k, const View& v, const View& out,
                          const View& lse, const View& dout, const View& dq, const View& dk,
                          const View& dv, float scale) override;

  // fast_gemm.cpp
  void matmul(const View& a, const View& b, const View& out, const MatmulArgs& args) override;

  // fast_conv.cpp
  void conv2d(const View& x, const View& weight, const View& bias, const View& y,
              const Conv2dArgs& args) override;
  void conv2d_backward(const View& x, const View& weight, const View& dy, const View& dx,
                       const View& dweight, const View& dbias, const Conv2dArgs& args) override;
  void max_pool2d(const View& x, const View& y, const View& indices, int64_t kernel,
                  int64_t stride) override;
  void max_pool2d_backward(const View& dy, const View& indices, const View& dx) override;

  // fast_optim.cpp
  void adamw(const View& param, const View& grad, const View& m, const View& v,
             const AdamWArgs& args) override;
  void sgd_momentum(const View& param, const View& grad, const View& velocity, float lr,
                    float momentum, float weight_decay) override;

  // fast_fused.cpp
  void bias_gelu(const View& x, const View& bias, const View& y) override;
  void bias_gelu_backward(const View& x, const View& bias, const View& dy, const View& dx,
                          const View& dbias) override;
  void add_layer_norm(const View& x, const View& r, const View& weight, const View& bias,
                      const View& s, const View& y, const View& mean, const View& rstd,
                      float eps) override;
  void add_layer_norm_backward(const View& dy, const View& ds, const View& s, const View& weight,
                               const View& mean, const View& rstd, const View& dx,
                               const View& dweight, const View& dbias) override;

 private:
  std::shared_ptr<HostBlockCache> blocks_;
};

}  // namespace tessera
