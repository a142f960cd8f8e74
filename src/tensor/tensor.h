// Tensor: a typed, strided view of device memory, with reverse-mode autograd.
//
// A Tensor is a shared handle (copying it aliases the same data). Views (reshape of a
// contiguous tensor, permute, transpose, slice) share storage; ops produce new contiguous
// tensors on the device of their inputs. Every op is declared in ops.h.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "base/dtype.h"
#include "base/random.h"
#include "base/shape.h"

namespace tessera {

struct Node;
struct TensorImpl;

class Tensor {
 public:
  Tensor() = default;  // an undefined tensor; defined() is false

  // Factories. `device` is a registered backend name ("cpu", "cpu-ref", ...).
  static Tensor empty(const Shape& shape, DType dtype = DType::F32,
                      const std::string& device = "cpu");
  static Tensor zeros(const Shape& shape, DType dtype = DType::F32,
                      const std::string& device = "cpu");
  static Tensor full(const Shape& shape, double value, DType dtype = DType::F32,
                     const std::string& device = "cpu");
  // Copies host values (converted to `dtype`) into a new tensor.
  static Tensor from_floats(const std::vector<float>& values, const Shape& shape,
                            DType dtype = DType::F32, const std::string& device = "cpu");
  static Tensor from_ints(const std::vector<int64_t>& values, const Shape& shape,
                          DType dtype = DType::I64, const std::string& device = "cpu");
  // Normal(0, std) and Uniform(low, high) draws from the generator (deterministic).
  static Tensor randn(const Shape& shape, Generator& gen, float std = 1.0f,
                      DType dtype = DType::F32, const std::string& device = "cpu");
  static Tensor uniform(const Shape& shape, Generator& gen, float low, float high,
                        DType dtype = DType::F32, const std::string& device = "cpu");

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  int64_t size(int64_t dim) const;  // negative dims count from the end
  int64_t dim() const { return static_cast<int64_t>(shape().size()); }
  const Strides& strides() const;
  int64_t numel() const;
  DType dtype() const;
  const std::string& device() const;
  Backend& backend() const;
  bool is_contiguous() const;
  // The kernel-level window on this tensor's memory.
  View view() const;
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype()); }

  // Host access (copies). Floats are converted to f32; integers to int64.
  std::vector<float> to_floats() const;
  std::vector<int64_t> to_ints() const;
  float item() const;  // the single element as f32; Error unless numel() == 1

  // Conversions (recorded by autograd for float dtypes).
  Tensor to(DType dtype) const;
  Tensor to_device(const std::string& device) const;
  Tensor contiguous() const;
  Tensor clone() const;
  Tensor detach() const;  // same data, no autograd history

  // Autograd.
  bool requires_grad() const;
  Tensor& set_requires_grad(bool enabled);
  Tensor grad() const;  // undefined until a backward pass reaches this leaf
  void set_grad(const Tensor& grad) const;
  void zero_grad() const;  // drops the gradient
  // Back-propagates from this scalar (or with an explicit seed gradient of the same shape).
  void backward(const Tensor& seed = Tensor()) const;
  const std::shared_ptr<Node>& grad_fn() const;

  // In-place writes used by optimisers and initialisers (not recorded by autograd).
  void copy_from(const Tensor& src) const;  // same shape; converts dtype
  void fill_(double value) const;

  TensorImpl* impl() const { return impl_.get(); }
  // True when this handle is the only one on its data: no other handle, view or saved copy
  // can see a write to it (the backward pass then sums gradients in place).
  bool sole_owner() const;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

 private:
  std::shared_ptr<TensorImpl> impl_;
};

struct TensorImpl {
  std::shared_ptr<void> storage;  // device memory owned by the backend
  int64_t offset = 0;             // elements from the start of storage
  Shape shape;
  Strides strides;
  DType dtype = DType::F32;
  std::string device;
  Backend* backend = nullptr;
  bool requires_grad = false;
  Tensor grad;
  std::shared_ptr<Node> grad_fn;
  int grad_fn_output = 0;  // which of grad_fn's outputs this tensor is
};

// While alive, ops record no autograd history (evaluation, optimiser updates).
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};
bool grad_enabled();

}  // namespace tessera
