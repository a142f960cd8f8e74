// record: a backend that computes nothing. Each kernel appends a KernelCall (kernel_call.h) to
// a log, so that running a training step on device "record" yields the list of kernels the
// step launches, with their shapes and dtypes, for the cost model (perf/kernel_costs.h).
//
// Memory is reserved, not committed: allocate() maps zero pages lazily
// (MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE) and kernels never touch it, so a step of a
// model far larger than the host's memory "runs" in little real memory. The device holds no
// values: copy_from_host discards its input and copy_to_host reads zeros (so ids read back for
// a range check are 0, and loss.item() is 0). The backend counts the bytes alive and their
// peak, which is the device memory the step needs.
#pragma once
#include <mutex>

#include "backends/backend.h"
#include "backends/record/kernel_call.h"

namespace tessera {

class RecordBackend : public Backend {
 public:
  std::string name() const override;
  bool supports(Kernel kernel, DType dtype) const override;
  bool computes_values() const override { return false; }
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
  // One call each, every view an operand; an empty list logs nothing (no launch).
  double sum_squares_many(std::span<const View> xs) override;
  void scale_many(std::span<const View> xs, std::span<const View> outs, float factor) override;
  void adamw_many(std::span<const View> params, std::span<const View> grads, std::span<const View> ms,
                  std::span<const View> vs, std::span<const AdamWArgs> args) override;
  void bias_gelu(const View& x, const View& bias, const View& y) override;
  void bias_gelu_backward(const View& x, const View& bias, const View& dy, const View& dx, const View& dbias) override;
  void add_layer_norm(const View& x, const View& r, const View& weight, const View& bias, const View& s,
                      const View& y, const View& mean, const View& rstd, float eps) override;
  void add_layer_norm_backward(const View& dy, const View& ds, const View& s, const View& weight, const View& mean,
                               const View& rstd, const View& dx, const View& dweight, const View& dbias) override;

  // The kernels logged since the last clear_log().
  std::vector<KernelCall> log() const;
  void clear_log();
  // Bytes allocated and not yet released, and the most alive at once since reset_peak().
  int64_t live_bytes() const;
  int64_t peak_live_bytes() const;
  void reset_peak();  // the peak restarts from the bytes alive now

 private:
  void append(KernelCall call);
  KernelCall call(Kernel kernel, std::initializer_list<std::pair<const View*, Access>> operands) const;
  static KernelOperand operand(const View& view, Access access);

  mutable std::mutex mutex_;
  std::vector<KernelCall> log_;
  int64_t live_bytes_ = 0, peak_live_bytes_ = 0;
};

// The backend registered as "record" (an Error if the registry holds another kind).
RecordBackend& record_backend();

}  // namespace tessera
