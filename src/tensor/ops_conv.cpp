// Convolution and max pooling over (N, C, H, W) tensors, and their gradients.
#include "base/error.h"
#include "tensor/autograd.h"
#include "tensor/dispatch.h"
#include "tensor/op_helpers.h"
#include "tensor/ops.h"

namespace tessera {

Tensor conv2d(const Tensor& x_in, const Tensor& weight_in, const Tensor& bias_in, int64_t stride,
              int64_t padding) {
  check_same_device("conv2d", {&x_in, &weight_in, &bias_in});
  detail::require_float(x_in, "conv2d", "input");
  if (x_in.dim() != 4 || weight_in.dim() != 4 || weight_in.size(1) != x_in.size(1))
    fail("conv2d: input {} and weight {} do not match: expected (N, C, H, W) and (O, C, KH, KW)",
         shape_str(x_in.shape()), shape_str(weight_in.shape()));
  if (bias_in.defined() && bias_in.shape() != Shape{weight_in.size(0)})
    fail("conv2d: bias {} must have shape ({},)", shape_str(bias_in.shape()), weight_in.size(0));
  if (stride < 1 || padding < 0) fail("conv2d: stride {} and padding {} are invalid", stride, padding);
  DType dtype = x_in.dtype();
  Tensor x = x_in.contiguous(), w = cast(weight_in, dtype).contiguous();
  Tensor b = bias_in.defined() ? cast(bias_in, dtype).contiguous() : Tensor();
  int64_t oh = (x.size(2) + 2 * padding - w.size(2)) / stride + 1;
  int64_t ow = (x.size(3) + 2 * padding - w.size(3)) / stride + 1;
  if (oh < 1 || ow < 1)
    fail("conv2d: kernel {} does not fit input {} with padding {}", shape_str(w.shape()),
         shape_str(x.shape()), padding);
  Tensor y = detail::empty_like_shape(x, {x.size(0), w.size(0), oh, ow});
  Conv2dArgs args{stride, padding};
  View bias_view = b.defined() ? b.view() : View{nullptr, dtype, {w.size(0)}, {1}};
  kernel_backend(x, Kernel::Conv2d).conv2d(x.view(), w.view(), bias_view, y.view(), args);
  Tensor sx = x.detach(), sw = w.detach();
  bool has_bias = b.defined();
  DType wdtype = weight_in.dtype(), bdtype = has_bias ? bias_in.dtype() : dtype;
  record(y, "conv2d", {x_in, weight_in, bias_in}, [=](const Tensor& g) {
    Tensor gc = cast(g, dtype).contiguous();
    Tensor dx = detail::empty_like_shape(sx, sx.shape());
    Tensor dw = Tensor::zeros(sw.shape(), dtype, sx.device());
    Tensor db = has_bias ? Tensor::zeros({sw.size(0)}, dtype, sx.device()) : Tensor();
    View db_view = has_bias ? db.view() : View{nullptr, dtype, {sw.size(0)}, {1}};
    kernel_backend(sx, Kernel::Conv2dBackward)
        .conv2d_backward(sx.view(), sw.view(), gc.view(), dx.view(), dw.view(), db_view, args);
    return std::vector<Tensor>{dx, cast(dw, wdtype), has_bias ? cast(db, bdtype) : Tensor()};
  });
  return y;
}

Tensor max_pool2d(const Tensor& x_in, int64_t kernel, int64_t stride) {
  detail::require_float(x_in, "max_pool2d", "input");
  if (x_in.dim() != 4) fail("max_pool2d: input must be (N, C, H, W), got {}", shape_str(x_in.shape()));
  if (kernel < 1 || stride < 1 || kernel > x_in.size(2) || kernel > x_in.size(3))
    fail("max_pool2d: kernel {} and stride {} do not fit input {}", kernel, stride, shape_str(x_in.shape()));
  Tensor x = x_in.contiguous();
  int64_t oh = (x.size(2) - kernel) / stride + 1, ow = (x.size(3) - kernel) / stride + 1;
  Shape out_shape{x.size(0), x.size(1), oh, ow};
  Tensor y = detail::empty_like_shape(x, out_shape);
  Tensor indices = detail::empty_like_shape(x, out_shape, DType::I64);
  kernel_backend(x, Kernel::MaxPool2d).max_pool2d(x.view(), y.view(), indices.view(), kernel, stride);
  Shape in_shape = x.shape();
  DType dtype = x.dtype();
  record(y, "max_pool2d", {x_in}, [indices, in_shape, dtype](const Tensor& g) {
    Tensor gc = cast(g, dtype).contiguous();
    Tensor dx = Tensor::empty(in_shape, dtype, gc.device());
    kernel_backend(gc, Kernel::MaxPool2dBackward).max_pool2d_backward(gc.view(), indices.view(), dx.view());
    return std::vector<Tensor>{dx};
  });
  return y;
}

}  // namespace tessera
