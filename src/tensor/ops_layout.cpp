// Layout ops: casts, views (reshape, permute, transpose, slice), concat, expand and sum_to.
#include <numeric>

#include "base/error.h"
#include "tensor/autograd.h"
#include "tensor/dispatch.h"
#include "tensor/op_helpers.h"
#include "tensor/ops.h"

namespace tessera {

using detail::normalize_dim;

namespace {

// A tensor sharing x's storage with a new shape, strides and offset.
Tensor make_view(const Tensor& x, const Shape& shape, const Strides& strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>(*x.impl());
  impl->shape = shape;
  impl->strides = strides;
  impl->offset = offset;
  impl->requires_grad = false;
  impl->grad = Tensor();
  impl->grad_fn = nullptr;
  return Tensor(std::move(impl));
}

}  // namespace

Tensor cast(const Tensor& x, DType dtype) {
  if (x.dtype() == dtype) return x;
  Tensor out = Tensor::empty(x.shape(), dtype, x.device());
  kernel_backend(x, Kernel::Copy).copy(x.view(), out.view());
  if (needs_grad({&x}) && is_floating(dtype)) {
    DType from = x.dtype();
    record(out, "cast", {x}, [from](const Tensor& g) { return std::vector<Tensor>{cast(g, from)}; });
  }
  return out;
}

Tensor contiguous(const Tensor& x) {
  if (x.is_contiguous()) return x;
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  kernel_backend(x, Kernel::Copy).copy(x.view(), out.view());
  record(out, "contiguous", {x}, [](const Tensor& g) { return std::vector<Tensor>{g}; });
  return out;
}

Tensor reshape(const Tensor& x, const Shape& requested) {
  Shape shape = requested;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (infer >= 0) fail("reshape: more than one -1 in {}", shape_str(requested));
      infer = static_cast<int64_t>(i);
    } else {
      known *= shape[i];
    }
  }
  if (infer >= 0 && known > 0 && x.numel() % known == 0) shape[infer] = x.numel() / known;
  if (numel(shape) != x.numel() || (infer >= 0 && shape[infer] < 0))
    fail("reshape: cannot view a tensor of shape {} ({} elements) as {}", shape_str(x.shape()),
         x.numel(), shape_str(requested));
  Tensor c = x.contiguous();
  Tensor out = make_view(c, shape, contiguous_strides(shape), c.impl()->offset);
  Shape original = x.shape();
  record(out, "reshape", {c}, [original](const Tensor& g) {
    return std::vector<Tensor>{reshape(g, original)};
  });
  return out;
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) {
  int64_t rank = x.dim();
  if (static_cast<int64_t>(dims.size()) != rank)
    fail("permute: {} dimensions given for a tensor of shape {}", dims.size(), shape_str(x.shape()));
  Shape shape(rank);
  Strides strides(rank);
  std::vector<int64_t> inverse(rank, -1);
  for (int64_t i = 0; i < rank; ++i) {
    int64_t d = normalize_dim(dims[i], rank, "permute");
    if (inverse[d] >= 0) fail("permute: dimension {} repeated", d);
    inverse[d] = i;
    shape[i] = x.shape()[d];
    strides[i] = x.strides()[d];
  }
  Tensor out = make_view(x, shape, strides, x.impl()->offset);
  record(out, "permute", {x}, [inverse](const Tensor& g) {
    return std::vector<Tensor>{permute(g, inverse)};
  });
  return out;
}

Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1) {
  std::vector<int64_t> dims(x.dim());
  std::iota(dims.begin(), dims.end(), 0);
  std::swap(dims[normalize_dim(dim0, x.dim(), "transpose")],
            dims[normalize_dim(dim1, x.dim(), "transpose")]);
  return permute(x, dims);
}

Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end) {
  int64_t d = normalize_dim(dim, x.dim(), "slice");
  if (start < 0 || end > x.shape()[d] || start > end)
    fail("slice: range [{}, {}) is outside dimension {} of size {} (shape {})", start, end, d,
         x.shape()[d], shape_str(x.shape()));
  Shape shape = x.shape();
  shape[d] = end - start;
  Tensor out = make_view(x, shape, x.strides(), x.impl()->offset + start * x.strides()[d]);
  Shape full = x.shape();
  record(out, "slice", {x}, [full, d, start](const Tensor& g) {
    Tensor gx = Tensor::zeros(full, g.dtype(), g.device());
    View window = gx.view();
    window.shape = g.shape();
    window.data = static_cast<uint8_t*>(window.data) + start * window.strides[d] * dtype_size(g.dtype());
    kernel_backend(g, Kernel::Copy).copy(g.view(), window);
    return std::vector<Tensor>{gx};
  });
  return out;
}

Tensor concat(const std::vector<Tensor>& xs, int64_t dim) {
  if (xs.empty()) fail("concat: no tensors given");
  int64_t d = normalize_dim(dim, xs[0].dim(), "concat");
  Shape shape = xs[0].shape();
  shape[d] = 0;
  for (const Tensor& x : xs) {
    Shape s = x.shape(), expect = xs[0].shape();
    if (x.dim() == xs[0].dim()) s[d] = expect[d] = 0;
    if (s != expect || x.dtype() != xs[0].dtype() || x.device() != xs[0].device())
      fail("concat: shape {} ({}) does not match {} ({}) outside dimension {}",
           shape_str(x.shape()), dtype_name(x.dtype()), shape_str(xs[0].shape()),
           dtype_name(xs[0].dtype()), d);
    shape[d] += x.shape()[d];
  }
  Tensor out = Tensor::empty(shape, xs[0].dtype(), xs[0].device());
  std::vector<int64_t> starts, sizes;
  int64_t start = 0;
  for (const Tensor& x : xs) {
    View window = out.view();
    window.shape = x.shape();
    window.data = static_cast<uint8_t*>(window.data) + start * window.strides[d] * dtype_size(x.dtype());
    kernel_backend(x, Kernel::Copy).copy(x.view(), window);
    starts.push_back(start);
    sizes.push_back(x.shape()[d]);
    start += x.shape()[d];
  }
  record(out, "concat", xs, [starts, sizes, d](const Tensor& g) {
    std::vector<Tensor> grads;
    for (size_t i = 0; i < starts.size(); ++i)
      grads.push_back(contiguous(slice(g, d, starts[i], starts[i] + sizes[i])));
    return grads;
  });
  return out;
}

Tensor expand(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  Shape target = broadcast_shapes(x.shape(), shape, "expand");
  if (target != shape)
    fail("expand: shape {} cannot be expanded to {}", shape_str(x.shape()), shape_str(shape));
  Tensor out = Tensor::empty(shape, x.dtype(), x.device());
  View src = x.view();
  src.strides = broadcast_strides(x.shape(), x.strides(), shape);
  src.shape = shape;
  kernel_backend(x, Kernel::Copy).copy(src, out.view());
  Shape original = x.shape();
  record(out, "expand", {x}, [original](const Tensor& g) {
    return std::vector<Tensor>{sum_to(g, original)};
  });
  return out;
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  if (broadcast_shapes(shape, x.shape(), "sum_to") != x.shape())
    fail("sum_to: shape {} does not broadcast to {}", shape_str(shape), shape_str(x.shape()));
  std::vector<int64_t> dims;
  size_t lead = x.shape().size() - shape.size();
  for (size_t i = 0; i < x.shape().size(); ++i)
    if (i < lead || (shape[i - lead] == 1 && x.shape()[i] != 1)) dims.push_back(static_cast<int64_t>(i));
  Tensor summed = sum(x, dims, /*keepdim=*/true);
  return reshape(summed, shape);
}

}  // namespace tessera
