// Reductions (sum, mean, max, argmax) and their gradients.
#include <algorithm>

#include "base/error.h"
#include "tensor/autograd.h"
#include "tensor/dispatch.h"
#include "tensor/op_helpers.h"
#include "tensor/ops.h"

namespace tessera {

namespace {

// Sorted, unique, normalised dims.
std::vector<int64_t> normalize_dims(const std::vector<int64_t>& dims, int64_t rank, const char* op) {
  std::vector<int64_t> out;
  for (int64_t d : dims) out.push_back(detail::normalize_dim(d, rank, op));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Shape keepdim_shape(const Shape& shape, const std::vector<int64_t>& dims) {
  Shape out = shape;
  for (int64_t d : dims) out[d] = 1;
  return out;
}

Shape dropped_shape(const Shape& shape, const std::vector<int64_t>& dims) {
  Shape out;
  for (size_t i = 0; i < shape.size(); ++i)
    if (!std::binary_search(dims.begin(), dims.end(), static_cast<int64_t>(i))) out.push_back(shape[i]);
  return out;
}

// Sums a contiguous tensor over dims [first, last] (one run of adjacent dims), keeping them as 1.
Tensor sum_run(const Tensor& x, int64_t first, int64_t last) {
  const Shape& s = x.shape();
  int64_t outer = 1, n = 1, inner = 1;
  for (int64_t i = 0; i < first; ++i) outer *= s[i];
  for (int64_t i = first; i <= last; ++i) n *= s[i];
  for (int64_t i = last + 1; i < static_cast<int64_t>(s.size()); ++i) inner *= s[i];
  Shape out_shape = s;
  for (int64_t i = first; i <= last; ++i) out_shape[i] = 1;
  Tensor out = detail::empty_like_shape(x, out_shape);
  kernel_backend(x, Kernel::Reduce).reduce(ReduceOp::Sum, x.view(), out.view(), outer, n, inner);
  return out;
}

}  // namespace

Tensor sum(const Tensor& x) {
  std::vector<int64_t> all(x.dim());
  for (int64_t i = 0; i < x.dim(); ++i) all[i] = i;
  return sum(x, all, false);
}

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims_in, bool keepdim) {
  detail::require_float(x, "sum", "input");
  std::vector<int64_t> dims = normalize_dims(dims_in, x.dim(), "sum");
  Tensor result = x.contiguous().detach();
  // Reduce runs of adjacent dims, last run first so earlier indices stay valid.
  for (size_t end = dims.size(); end > 0;) {
    size_t begin = end - 1;
    while (begin > 0 && dims[begin - 1] == dims[begin] - 1) --begin;
    result = sum_run(result, dims[begin], dims[end - 1]);
    end = begin;
  }
  Shape kept = keepdim_shape(x.shape(), dims);
  Shape final_shape = keepdim ? kept : dropped_shape(x.shape(), dims);
  Tensor out = result.shape() == final_shape ? result : reshape(result, final_shape);
  Shape original = x.shape();
  record(out, "sum", {x}, [kept, original](const Tensor& g) {
    return std::vector<Tensor>{expand(reshape(g, kept), original)};
  });
  return out;
}

Tensor mean(const Tensor& x) { return scale(sum(x), 1.0f / static_cast<float>(std::max<int64_t>(1, x.numel()))); }

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  int64_t count = 1;
  for (int64_t d : normalize_dims(dims, x.dim(), "mean")) count *= x.shape()[d];
  return scale(sum(x, dims, keepdim), 1.0f / static_cast<float>(std::max<int64_t>(1, count)));
}

namespace {

struct MaxResult {
  Tensor values, indices;
  int64_t outer, n, inner;
};

MaxResult max_forward(const Tensor& x_in, int64_t dim, const char* op) {
  detail::require_float(x_in, op, "input");
  Tensor x = x_in.contiguous();
  int64_t d = detail::normalize_dim(dim, x.dim(), op);
  if (x.shape()[d] == 0) fail("{}: cannot reduce an empty dimension {} of shape {}", op, d, shape_str(x.shape()));
  MaxResult r{Tensor(), Tensor(), 1, x.shape()[d], 1};
  for (int64_t i = 0; i < d; ++i) r.outer *= x.shape()[i];
  for (int64_t i = d + 1; i < x.dim(); ++i) r.inner *= x.shape()[i];
  Shape kept = x.shape();
  kept[d] = 1;
  r.values = detail::empty_like_shape(x, kept);
  r.indices = detail::empty_like_shape(x, kept, DType::I64);
  kernel_backend(x, Kernel::ReduceMax).reduce_max(x.view(), r.values.view(), r.indices.view(), r.outer, r.n, r.inner);
  return r;
}

}  // namespace

Tensor max(const Tensor& x, int64_t dim, bool keepdim) {
  MaxResult r = max_forward(x, dim, "max");
  int64_t d = detail::normalize_dim(dim, x.dim(), "max");
  Shape kept = r.values.shape();
  Tensor out = keepdim ? r.values : reshape(r.values, dropped_shape(x.shape(), {d}));
  Shape original = x.shape();
  Tensor indices = r.indices;
  int64_t outer = r.outer, n = r.n, inner = r.inner;
  DType dtype = x.dtype();
  record(out, "max", {x}, [=](const Tensor& g) {
    Tensor gc = cast(reshape(g, kept), dtype).contiguous();
    Tensor gx = Tensor::empty(original, gc.dtype(), gc.device());
    kernel_backend(gc, Kernel::ScatterAlong).scatter_along(gc.view(), indices.view(), gx.view(), outer, n, inner);
    return std::vector<Tensor>{gx};
  });
  return out;
}

Tensor argmax(const Tensor& x, int64_t dim) {
  NoGradGuard no_grad;
  MaxResult r = max_forward(x, dim, "argmax");
  int64_t d = detail::normalize_dim(dim, x.dim(), "argmax");
  return reshape(r.indices, dropped_shape(x.shape(), {d}));
}

}  // namespace tessera
