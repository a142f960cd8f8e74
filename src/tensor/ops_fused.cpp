// Fused ops: bias + GELU and residual add + layer norm, each one backend kernel forward and one
// backward, with the math of the unfused ops (add then gelu; add then layer_norm).
#include <algorithm>

#include "base/error.h"
#include "tensor/autograd.h"
#include "tensor/dispatch.h"
#include "tensor/op_helpers.h"
#include "tensor/ops.h"

namespace tessera {

Tensor bias_gelu(const Tensor& x_in, const Tensor& bias_in) {
  check_same_device("bias_gelu", {&x_in, &bias_in});
  DType dtype = detail::promote(x_in.dtype(), bias_in.dtype(), "bias_gelu");
  if (x_in.dim() == 0 || bias_in.shape() != Shape{x_in.size(-1)})
    fail("bias_gelu: bias {} must have shape (n,) for input {} of last dimension n", shape_str(bias_in.shape()),
         shape_str(x_in.shape()));
  Tensor x = cast(x_in, dtype).contiguous(), bias = cast(bias_in, dtype).contiguous();
  Tensor y = detail::empty_like_shape(x, x.shape());
  kernel_backend(x, Kernel::BiasGelu).bias_gelu(x.view(), bias.view(), y.view());
  Tensor sx = x.detach(), sb = bias.detach();
  record(y, "bias_gelu", {x_in, bias_in}, [sx, sb, dtype](const Tensor& g) {
    Tensor gc = cast(g, dtype).contiguous();
    Tensor dx = detail::empty_like_shape(sx, sx.shape());
    Tensor dbias = Tensor::zeros(sb.shape(), dtype, sx.device());
    kernel_backend(sx, Kernel::BiasGeluBackward).bias_gelu_backward(sx.view(), sb.view(), gc.view(), dx.view(),
                                                                     dbias.view());
    return std::vector<Tensor>{dx, dbias};
  });
  return y;
}

AddLayerNorm add_layer_norm(const Tensor& x_in, const Tensor& r_in, const Tensor& weight, const Tensor& bias,
                            float eps) {
  check_same_device("add_layer_norm", {&x_in, &r_in, &weight, &bias});
  DType dtype = detail::promote(x_in.dtype(), r_in.dtype(), "add_layer_norm");
  if (x_in.shape() != r_in.shape() || x_in.dim() == 0)
    fail("add_layer_norm: x {} and r {} must have one shape (..., C)", shape_str(x_in.shape()),
         shape_str(r_in.shape()));
  int64_t channels = x_in.size(-1);
  if (weight.shape() != Shape{channels} || bias.shape() != Shape{channels})
    fail("add_layer_norm: weight {} and bias {} must have shape ({},) for input {}", shape_str(weight.shape()),
         shape_str(bias.shape()), channels, shape_str(x_in.shape()));
  Tensor x = cast(x_in, dtype).contiguous(), r = cast(r_in, dtype).contiguous();
  Tensor w = cast(weight, dtype).contiguous(), b = cast(bias, dtype).contiguous();
  int64_t rows = x.numel() / std::max<int64_t>(1, channels);
  Tensor s = detail::empty_like_shape(x, x.shape()), y = detail::empty_like_shape(x, x.shape());
  Tensor mean = Tensor::empty({rows}, DType::F32, x.device());
  Tensor rstd = Tensor::empty({rows}, DType::F32, x.device());
  kernel_backend(x, Kernel::AddLayerNorm)
      .add_layer_norm(x.view(), r.view(), w.view(), b.view(), s.view(), y.view(), mean.view(), rstd.view(), eps);
  Tensor ss = s.detach(), sw = w.detach();
  DType wdtype = weight.dtype(), bdtype = bias.dtype();
  record_outputs({s, y}, "add_layer_norm", {x_in, r_in, weight, bias}, [=](const std::vector<Tensor>& grads) {
    const Tensor &ds = grads[0], &dy = grads[1];
    if (!dy.defined()) return std::vector<Tensor>{ds, ds, Tensor(), Tensor()};  // only sum was used
    Tensor gc = cast(dy, dtype).contiguous();
    Tensor dsc = ds.defined() ? cast(ds, dtype).contiguous() : Tensor();
    View ds_view = dsc.defined() ? dsc.view() : View{nullptr, dtype, ss.shape(), ss.strides()};
    Tensor dx = detail::empty_like_shape(ss, ss.shape());
    Tensor dw = Tensor::zeros({channels}, dtype, ss.device());
    Tensor db = Tensor::zeros({channels}, dtype, ss.device());
    kernel_backend(ss, Kernel::AddLayerNormBackward)
        .add_layer_norm_backward(gc.view(), ds_view, ss.view(), sw.view(), mean.view(), rstd.view(), dx.view(),
                                 dw.view(), db.view());
    return std::vector<Tensor>{dx, dx, cast(dw, wdtype), cast(db, bdtype)};
  });
  return {s, y};
}

}  // namespace tessera
