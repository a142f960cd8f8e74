// Helpers shared by the op implementations.
#include "tensor/op_helpers.h"

#include "base/error.h"

namespace tessera::detail {

int64_t normalize_dim(int64_t dim, int64_t rank, const char* op) {
  int64_t d = dim < 0 ? dim + rank : dim;
  if (d < 0 || d >= rank) fail("{}: dimension {} is out of range for rank {}", op, dim, rank);
  return d;
}

DType promote(DType a, DType b, const char* op) {
  if (!is_floating(a) || !is_floating(b))
    fail("{}: needs floating-point operands, got {} and {}", op, dtype_name(a), dtype_name(b));
  if (a == b) return a;
  return DType::F32;
}

Tensor empty_like_shape(const Tensor& x, const Shape& shape) {
  return Tensor::empty(shape, x.dtype(), x.device());
}

Tensor empty_like_shape(const Tensor& x, const Shape& shape, DType dtype) {
  return Tensor::empty(shape, dtype, x.device());
}

void require_float(const Tensor& x, const char* op, const char* what) {
  if (!is_floating(x.dtype()))
    fail("{}: {} must be a floating-point tensor, got {}", op, what, dtype_name(x.dtype()));
}

bool summable_in_place(const Tensor& sum, const Tensor& like) {
  return sum.defined() && sum.sole_owner() && sum.is_contiguous() && sum.shape() == like.shape() &&
         sum.dtype() == like.dtype() && sum.device() == like.device();
}

}  // namespace tessera::detail
