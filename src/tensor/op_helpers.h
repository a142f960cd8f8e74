// Small helpers shared by the op implementations (not part of the public API).
#pragma once
#include "tensor/tensor.h"

namespace tessera::detail {

// A dimension index normalised to [0, rank), or an Error naming the op.
int64_t normalize_dim(int64_t dim, int64_t rank, const char* op);
// The wider of two float dtypes (f32 wins over narrow types); Error for integer operands.
DType promote(DType a, DType b, const char* op);
// A new contiguous tensor of `shape` on x's device with x's dtype (or `dtype`).
Tensor empty_like_shape(const Tensor& x, const Shape& shape);
Tensor empty_like_shape(const Tensor& x, const Shape& shape, DType dtype);
// Error unless x has a floating dtype.
void require_float(const Tensor& x, const char* op, const char* what);
// Whether a gradient sum may be added to in place: defined, held by no one else (sole_owner),
// contiguous, and of like's shape, dtype and device.
bool summable_in_place(const Tensor& sum, const Tensor& like);

}  // namespace tessera::detail
