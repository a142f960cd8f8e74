// The recording backend (see record_backend.h).
#include "backends/record/record_backend.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>

#include "base/error.h"

namespace tessera {

std::string RecordBackend::name() const { return "record"; }

bool RecordBackend::supports(Kernel, DType) const { return true; }

std::shared_ptr<void> RecordBackend::allocate(size_t bytes) {
  bytes = std::max<size_t>(bytes, 1);
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) fail("device 'record': cannot reserve {} bytes of address space", bytes);
  {
    std::lock_guard lock(mutex_);
    live_bytes_ += static_cast<int64_t>(bytes);
    peak_live_bytes_ = std::max(peak_live_bytes_, live_bytes_);
  }
  return std::shared_ptr<void>(p, [this, bytes](void* q) {
    munmap(q, bytes);
    std::lock_guard lock(mutex_);
    live_bytes_ -= static_cast<int64_t>(bytes);
  });
}

void RecordBackend::copy_from_host(void*, const void*, size_t) {}

void RecordBackend::copy_to_host(void* host_dst, const void*, size_t bytes) { std::memset(host_dst, 0, bytes); }

KernelCall RecordBackend::call(Kernel kernel, std::initializer_list<std::pair<const View*, Access>> operands) const {
  KernelCall c;
  c.kernel = kernel;
  for (auto [view, access] : operands) c.operands.push_back(operand(*view, access));
  return c;
}

KernelOperand RecordBackend::operand(const View& view, Access access) {
  KernelOperand o;
  o.present = view.data != nullptr;
  o.dtype = view.dtype;
  o.shape = view.shape;
  o.strides = view.strides;
  o.access = access;
  return o;
}

void RecordBackend::append(KernelCall call) {
  std::lock_guard lock(mutex_);
  log_.push_back(std::move(call));
}

namespace {
constexpr Access R = Access::Read, W = Access::Write, RW = Access::ReadWrite;
}

void RecordBackend::copy(const View& src, const View& dst) { append(call(Kernel::Copy, {{&src, R}, {&dst, W}})); }

void RecordBackend::fill(const View& dst, double) { append(call(Kernel::Fill, {{&dst, W}})); }

void RecordBackend::binary(BinaryOp op, const View& a, const View& b, const View& out) {
  KernelCall c = call(Kernel::Binary, {{&a, R}, {&b, R}, {&out, W}});
  c.op = static_cast<int>(op);
  append(std::move(c));
}

void RecordBackend::unary(UnaryOp op, const View& x, const View& out) {
  KernelCall c = call(Kernel::Unary, {{&x, R}, {&out, W}});
  c.op = static_cast<int>(op);
  append(std::move(c));
}

void RecordBackend::unary_backward(UnaryOp op, const View& x, const View& grad_out, const View& grad_in) {
  KernelCall c = call(Kernel::UnaryBackward, {{&x, R}, {&grad_out, R}, {&grad_in, W}});
  c.op = static_cast<int>(op);
  append(std::move(c));
}

void RecordBackend::affine(const View& x, const View& out, float, float) {
  append(call(Kernel::Affine, {{&x, R}, {&out, W}}));
}

void RecordBackend::reduce(ReduceOp op, const View& x, const View& out, int64_t, int64_t, int64_t) {
  KernelCall c = call(Kernel::Reduce, {{&x, R}, {&out, W}});
  c.op = static_cast<int>(op);
  append(std::move(c));
}

void RecordBackend::reduce_max(const View& x, const View& out, const View& indices, int64_t, int64_t, int64_t) {
  append(call(Kernel::ReduceMax, {{&x, R}, {&out, W}, {&indices, W}}));
}

void RecordBackend::scatter_along(const View& values, const View& indices, const View& out, int64_t, int64_t,
                                  int64_t) {
  append(call(Kernel::ScatterAlong, {{&values, R}, {&indices, R}, {&out, W}}));
}

void RecordBackend::softmax(const View& x, const View& y) { append(call(Kernel::Softmax, {{&x, R}, {&y, W}})); }

void RecordBackend::softmax_backward(const View& y, const View& dy, const View& dx) {
  append(call(Kernel::SoftmaxBackward, {{&y, R}, {&dy, R}, {&dx, W}}));
}

void RecordBackend::log_softmax(const View& x, const View& y) {
  append(call(Kernel::LogSoftmax, {{&x, R}, {&y, W}}));
}

void RecordBackend::log_softmax_backward(const View& y, const View& dy, const View& dx) {
  append(call(Kernel::LogSoftmaxBackward, {{&y, R}, {&dy, R}, {&dx, W}}));
}

void RecordBackend::cross_entropy(const View& logits, const View& targets, const View& losses, const View& lse) {
  append(call(Kernel::CrossEntropy, {{&logits, R}, {&targets, R}, {&losses, W}, {&lse, W}}));
}

void RecordBackend::cross_entropy_backward(const View& logits, const View& targets, const View& lse,
                                           const View& dlosses, const View& dlogits) {
  append(call(Kernel::CrossEntropyBackward, {{&logits, R}, {&targets, R}, {&lse, R}, {&dlosses, R}, {&dlogits, W}}));
}

void RecordBackend::layer_norm(const View& x, const View& weight, const View& bias, const View& y, const View& mean,
                               const View& rstd, float) {
  append(call(Kernel::LayerNorm, {{&x, R}, {&weight, R}, {&bias, R}, {&y, W}, {&mean, W}, {&rstd, W}}));
}

void RecordBackend::layer_norm_backward(const View& dy, const View& x, const View& weight, const View& mean,
                                        const View& rstd, const View& dx, const View& dweight, const View& dbias) {
  append(call(Kernel::LayerNormBackward,
              {{&dy, R}, {&x, R}, {&weight, R}, {&mean, R}, {&rstd, R}, {&dx, W}, {&dweight, RW}, {&dbias, RW}}));
}

void RecordBackend::embedding(const View& ids, const View& table, const View& out) {
  append(call(Kernel::Embedding, {{&ids, R}, {&table, R}, {&out, W}}));
}

void RecordBackend::embedding_backward(const View& ids, const View& dout, const View& dtable) {
  append(call(Kernel::EmbeddingBackward, {{&ids, R}, {&dout, R}, {&dtable, RW}}));
}

void RecordBackend::attention(const View& q, const View& k, const View& v, const View& out, const View& lse, float) {
  append(call(Kernel::Attention, {{&q, R}, {&k, R}, {&v, R}, {&out, W}, {&lse, W}}));
}

void RecordBackend::attention_backward(const View& q, const View& k, const View& v, const View& out,
                                       const View& lse, const View& dout, const View& dq, const View& dk,
                                       const View& dv, float) {
  append(call(Kernel::AttentionBackward, {{&q, R}, {&k, R}, {&v, R}, {&out, R}, {&lse, R}, {&dout, R}, {&dq, W},
                                          {&dk, W}, {&dv, W}}));
}

void RecordBackend::matmul(const View& a, const View& b, const View& out, const MatmulArgs& args) {
  KernelCall c = call(Kernel::Matmul, {{&a, R}, {&b, R}, {&out, args.accumulate ? RW : W}});
  c.matmul = args;
  append(std::move(c));
}

void RecordBackend::conv2d(const View& x, const View& weight, const View& bias, const View& y,
                           const Conv2dArgs& args) {
  KernelCall c = call(Kernel::Conv2d, {{&x, R}, {&weight, R}, {&bias, R}, {&y, W}});
  c.conv = args;
  append(std::move(c));
}

void RecordBackend::conv2d_backward(const View& x, const View& weight, const View& dy, const View& dx,
                                    const View& dweight, const View& dbias, const Conv2dArgs& args) {
  KernelCall c = call(Kernel::Conv2dBackward, {{&x, R}, {&weight, R}, {&dy, R}, {&dx, W}, {&dweight, RW}, {&dbias, RW}});
  c.conv = args;
  append(std::move(c));
}

void RecordBackend::max_pool2d(const View& x, const View& y, const View& indices, int64_t kernel, int64_t stride) {
  KernelCall c = call(Kernel::MaxPool2d, {{&x, R}, {&y, W}, {&indices, W}});
  c.pool_kernel = kernel;
  c.pool_stride = stride;
  append(std::move(c));
}

void RecordBackend::max_pool2d_backward(const View& dy, const View& indices, const View& dx) {
  append(call(Kernel::MaxPool2dBackward, {{&dy, R}, {&indices, R}, {&dx, W}}));
}

void RecordBackend::dropout_mask(const View& mask, float, uint64_t, uint64_t) {
  append(call(Kernel::DropoutMask, {{&mask, W}}));
}

void RecordBackend::adamw(const View& param, const View& grad, const View& m, const View& v, const AdamWArgs&) {
  append(call(Kernel::AdamW, {{&param, RW}, {&grad, R}, {&m, RW}, {&v, RW}}));
}

void RecordBackend::sgd_momentum(const View& param, const View& grad, const View& velocity, float, float, float) {
  append(call(Kernel::SgdMomentum, {{&param, RW}, {&grad, R}, {&velocity, RW}}));
}

double RecordBackend::sum_squares(const View& x) {
  append(call(Kernel::SumSquares, {{&x, R}}));
  return 0.0;
}

double RecordBackend::sum_squares_many(std::span<const View> xs) {
  if (xs.empty()) return 0.0;
  KernelCall c = call(Kernel::SumSquaresMany, {});
  for (const View& x : xs) c.operands.push_back(operand(x, R));
  append(std::move(c));
  return 0.0;
}

void RecordBackend::scale_many(std::span<const View> xs, std::span<const View> outs, float) {
  TS_ASSERT(xs.size() == outs.size());
  if (xs.empty()) return;
  KernelCall c = call(Kernel::ScaleMany, {});
  for (size_t i = 0; i < xs.size(); ++i) {
    c.operands.push_back(operand(xs[i], R));
    c.operands.push_back(operand(outs[i], W));
  }
  append(std::move(c));
}

void RecordBackend::adamw_many(std::span<const View> params, std::span<const View> grads, std::span<const View> ms,
                               std::span<const View> vs, std::span<const AdamWArgs> args) {
  size_t n = params.size();
  TS_ASSERT(grads.size() == n && ms.size() == n && vs.size() == n && args.size() == n);
  if (n == 0) return;
  KernelCall c = call(Kernel::AdamWMany, {});
  for (size_t i = 0; i < n; ++i) {  // as adamw's operands, tensor after tensor
    c.operands.push_back(operand(params[i], RW));
    c.operands.push_back(operand(grads[i], R));
    c.operands.push_back(operand(ms[i], RW));
    c.operands.push_back(operand(vs[i], RW));
  }
  append(std::move(c));
}

void RecordBackend::bias_gelu(const View& x, const View& bias, const View& y) {
  append(call(Kernel::BiasGelu, {{&x, R}, {&bias, R}, {&y, W}}));
}

void RecordBackend::bias_gelu_backward(const View& x, const View& bias, const View& dy, const View& dx,
                                       const View& dbias) {
  append(call(Kernel::BiasGeluBackward, {{&x, R}, {&bias, R}, {&dy, R}, {&dx, W}, {&dbias, RW}}));
}

void RecordBackend::add_layer_norm(const View& x, const View& r, const View& weight, const View& bias, const View& s,
                                   const View& y, const View& mean, const View& rstd, float) {
  append(call(Kernel::AddLayerNorm,
              {{&x, R}, {&r, R}, {&weight, R}, {&bias, R}, {&s, W}, {&y, W}, {&mean, W}, {&rstd, W}}));
}

void RecordBackend::add_layer_norm_backward(const View& dy, const View& ds, const View& s, const View& weight,
                                            const View& mean, const View& rstd, const View& dx, const View& dweight,
                                            const View& dbias) {
  append(call(Kernel::AddLayerNormBackward, {{&dy, R}, {&ds, R}, {&s, R}, {&weight, R}, {&mean, R}, {&rstd, R},
                                             {&dx, W}, {&dweight, RW}, {&dbias, RW}}));
}

std::vector<KernelCall> RecordBackend::log() const {
  std::lock_guard lock(mutex_);
  return log_;
}

void RecordBackend::clear_log() {
  std::lock_guard lock(mutex_);
  log_.clear();
}

int64_t RecordBackend::live_bytes() const {
  std::lock_guard lock(mutex_);
  return live_bytes_;
}

int64_t RecordBackend::peak_live_bytes() const {
  std::lock_guard lock(mutex_);
  return peak_live_bytes_;
}

void RecordBackend::reset_peak() {
  std::lock_guard lock(mutex_);
  peak_live_bytes_ = live_bytes_;
}

RecordBackend& record_backend() {
  auto* r = dynamic_cast<RecordBackend*>(&backend("record"));
  TS_ASSERT(r != nullptr);
  return *r;
}

REGISTER_BACKEND("record", RecordBackend);

}  // namespace tessera
