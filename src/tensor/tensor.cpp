// Tensor construction, host access, conversions and gradient bookkeeping.
#include "tensor/tensor.h"

#include <cstring>

#include "base/error.h"
#include "tensor/autograd.h"
#include "tensor/dispatch.h"
#include "tensor/ops.h"

namespace tessera {

namespace {
thread_local bool g_grad_enabled = true;

TensorImpl& checked(const std::shared_ptr<TensorImpl>& impl) {
  if (!impl) fail("use of an undefined tensor");
  return *impl;
}
}  // namespace

bool grad_enabled() { return g_grad_enabled; }
NoGradGuard::NoGradGuard() : previous_(g_grad_enabled) { g_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { g_grad_enabled = previous_; }

Tensor Tensor::empty(const Shape& shape, DType dtype, const std::string& device) {
  for (int64_t d : shape)
    if (d < 0) fail("cannot create a tensor of shape {}: negative dimension", shape_str(shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->backend = &tessera::backend(device);
  impl->device = device;
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  impl->storage = impl->backend->allocate(std::max<size_t>(1, tessera::numel(shape) * dtype_size(dtype)));
  return Tensor(std::move(impl));
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, const std::string& device) {
  return empty(shape, dtype, device);  // allocate() returns zeroed memory
}

Tensor Tensor::full(const Shape& shape, double value, DType dtype, const std::string& device) {
  Tensor t = empty(shape, dtype, device);
  t.fill_(value);
  return t;
}

Tensor Tensor::from_floats(const std::vector<float>& values, const Shape& shape, DType dtype,
                           const std::string& device) {
  if (static_cast<int64_t>(values.size()) != tessera::numel(shape))
    fail("from_floats: {} values do not fill shape {}", values.size(), shape_str(shape));
  Tensor t = empty(shape, dtype, device);
  std::vector<uint8_t> host(t.nbytes());
  convert_elements(values.data(), DType::F32, host.data(), dtype, values.size());
  t.backend().copy_from_host(t.view().data, host.data(), host.size());
  return t;
}

Tensor Tensor::from_ints(const std::vector<int64_t>& values, const Shape& shape, DType dtype,
                         const std::string& device) {
  if (static_cast<int64_t>(values.size()) != tessera::numel(shape))
    fail("from_ints: {} values do not fill shape {}", values.size(), shape_str(shape));
  Tensor t = empty(shape, dtype, device);
  std::vector<uint8_t> host(t.nbytes());
  convert_elements(values.data(), DType::I64, host.data(), dtype, values.size());
  t.backend().copy_from_host(t.view().data, host.data(), host.size());
  return t;
}

// A device that holds no values (record) gets no random draws: generating billions of numbers
// on the host for it would only slow down a timing-only step of a large model. The generator
// advances as if it had drawn them.
Tensor Tensor::randn(const Shape& shape, Generator& gen, float std, DType dtype,
                     const std::string& device) {
  uint64_t first = gen.take(static_cast<uint64_t>(tessera::numel(shape)));
  if (!tessera::backend(device).computes_values()) return empty(shape, dtype, device);
  std::vector<float> values(tessera::numel(shape));
  for (size_t i = 0; i < values.size(); ++i) values[i] = std * random_normal(gen.seed, first + i);
  return from_floats(values, shape, dtype, device);
}

Tensor Tensor::uniform(const Shape& shape, Generator& gen, float low, float high, DType dtype,
                       const std::string& device) {
  uint64_t first = gen.take(static_cast<uint64_t>(tessera::numel(shape)));
  if (!tessera::backend(device).computes_values()) return empty(shape, dtype, device);
  std::vector<float> values(tessera::numel(shape));
  for (size_t i = 0; i < values.size(); ++i)
    values[i] = low + (high - low) * random_uniform(gen.seed, first + i);
  return from_floats(values, shape, dtype, device);
}

const Shape& Tensor::shape() const { return checked(impl_).shape; }
const Strides& Tensor::strides() const { return checked(impl_).strides; }
int64_t Tensor::numel() const { return tessera::numel(shape()); }
DType Tensor::dtype() const { return checked(impl_).dtype; }
const std::string& Tensor::device() const { return checked(impl_).device; }
Backend& Tensor::backend() const { return *checked(impl_).backend; }
bool Tensor::is_contiguous() const { return strides() == contiguous_strides(shape()); }

int64_t Tensor::size(int64_t d) const {
  int64_t rank = dim();
  int64_t i = d < 0 ? d + rank : d;
  if (i < 0 || i >= rank) fail("dimension {} is out of range for a tensor of shape {}", d, shape_str(shape()));
  return shape()[i];
}

View Tensor::view() const {
  TensorImpl& t = checked(impl_);
  View v;
  v.data = static_cast<uint8_t*>(t.storage.get()) + t.offset * dtype_size(t.dtype);
  v.dtype = t.dtype;
  v.shape = t.shape;
  v.strides = t.strides;
  return v;
}

std::vector<float> Tensor::to_floats() const {
  Tensor c = contiguous();
  std::vector<uint8_t> host(c.nbytes());
  c.backend().copy_to_host(host.data(), c.view().data, host.size());
  std::vector<float> out(c.numel());
  convert_elements(host.data(), c.dtype(), out.data(), DType::F32, out.size());
  return out;
}

std::vector<int64_t> Tensor::to_ints() const {
  Tensor c = contiguous();
  std::vector<uint8_t> host(c.nbytes());
  c.backend().copy_to_host(host.data(), c.view().data, host.size());
  std::vector<int64_t> out(c.numel());
  convert_elements(host.data(), c.dtype(), out.data(), DType::I64, out.size());
  return out;
}

float Tensor::item() const {
  if (numel() != 1) fail("item() needs a tensor with one element, got shape {}", shape_str(shape()));
  return to_floats()[0];
}

Tensor Tensor::to(DType dtype) const { return cast(*this, dtype); }

Tensor Tensor::to_device(const std::string& device) const {
  if (device == this->device()) return *this;
  Tensor c = contiguous();
  Tensor out = empty(shape(), dtype(), device);
  std::vector<uint8_t> host(c.nbytes());
  c.backend().copy_to_host(host.data(), c.view().data, host.size());
  out.backend().copy_from_host(out.view().data, host.data(), host.size());
  if (needs_grad({this})) {
    std::string from = this->device();
    record(out, "to_device", {*this},
           [from](const Tensor& g) { return std::vector<Tensor>{g.to_device(from)}; });
  }
  return out;
}

Tensor Tensor::contiguous() const { return is_contiguous() ? *this : tessera::contiguous(*this); }

Tensor Tensor::clone() const {
  Tensor out = empty(shape(), dtype(), device());
  out.copy_from(*this);
  return out;
}

Tensor Tensor::detach() const {
  auto impl = std::make_shared<TensorImpl>(checked(impl_));
  impl->requires_grad = false;
  impl->grad = Tensor();
  impl->grad_fn = nullptr;
  return Tensor(std::move(impl));
}

bool Tensor::requires_grad() const { return impl_ && impl_->requires_grad; }

Tensor& Tensor::set_requires_grad(bool enabled) {
  TensorImpl& t = checked(impl_);
  if (enabled && !is_floating(t.dtype))
    fail("only floating-point tensors can require gradients (dtype {})", dtype_name(t.dtype));
  t.requires_grad = enabled;
  return *this;
}

Tensor Tensor::grad() const { return checked(impl_).grad; }
bool Tensor::sole_owner() const {
  return impl_ && impl_.use_count() == 1 && impl_->storage.use_count() == 1;
}
void Tensor::set_grad(const Tensor& grad) const { checked(impl_).grad = grad; }
void Tensor::zero_grad() const { checked(impl_).grad = Tensor(); }
const std::shared_ptr<Node>& Tensor::grad_fn() const { return checked(impl_).grad_fn; }

void Tensor::backward(const Tensor& seed) const {
  if (!requires_grad()) fail("backward() on a tensor that does not require gradients");
  Tensor s = seed;
  if (!s.defined()) {
    if (numel() != 1)
      fail("backward() without a seed gradient needs a scalar, got shape {}", shape_str(shape()));
    s = full(shape(), 1.0, dtype(), device());
  } else if (s.shape() != shape()) {
    fail("backward(): seed gradient shape {} differs from the tensor's shape {}",
         shape_str(s.shape()), shape_str(shape()));
  }
  run_backward(*this, s);
}

void Tensor::copy_from(const Tensor& src) const {
  if (src.shape() != shape())
    fail("copy_from: source shape {} differs from destination shape {}", shape_str(src.shape()),
         shape_str(shape()));
  Tensor s = src.device() == device() ? src : src.detach().to_device(device());
  kernel_backend(*this, Kernel::Copy).copy(s.view(), view());
}

void Tensor::fill_(double value) const { kernel_backend(*this, Kernel::Fill).fill(view(), value); }

}  // namespace tessera
