// Elementwise ops with broadcasting, and their gradients.
#include <cmath>

#include "base/error.h"
#include "tensor/autograd.h"
#include "tensor/dispatch.h"
#include "tensor/op_helpers.h"
#include "tensor/ops.h"

namespace tessera {

namespace {

const char* binary_name(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add: return "add";
    case BinaryOp::Sub: return "sub";
    case BinaryOp::Mul: return "mul";
    case BinaryOp::Div: return "div";
  }
  return "?";
}

// out = a op b with broadcasting; no autograd.
Tensor binary_forward(BinaryOp op, const Tensor& a_in, const Tensor& b_in) {
  const char* name = binary_name(op);
  check_same_device(name, {&a_in, &b_in});
  DType dtype = detail::promote(a_in.dtype(), b_in.dtype(), name);
  Tensor a = cast(a_in, dtype).contiguous(), b = cast(b_in, dtype).contiguous();
  Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor out = Tensor::empty(shape, dtype, a.device());
  View va = a.view(), vb = b.view();
  va.strides = broadcast_strides(a.shape(), a.strides(), shape);
  vb.strides = broadcast_strides(b.shape(), b.strides(), shape);
  va.shape = vb.shape = shape;
  kernel_backend(out, Kernel::Binary).binary(op, va, vb, out.view());
  return out;
}

Tensor unary_forward(UnaryOp op, const Tensor& x_in, const char* name) {
  detail::require_float(x_in, name, "input");
  Tensor x = x_in.contiguous();
  Tensor out = detail::empty_like_shape(x, x.shape());
  kernel_backend(x, Kernel::Unary).unary(op, x.view(), out.view());
  return out;
}

// grad * d op(x)/dx computed by the backend's unary_backward kernel (Relu, Gelu).
Tensor unary_grad(UnaryOp op, const Tensor& x, const Tensor& grad) {
  Tensor g = cast(grad, x.dtype()).contiguous();
  Tensor out = detail::empty_like_shape(x, x.shape());
  kernel_backend(x, Kernel::UnaryBackward).unary_backward(op, x.view(), g.view(), out.view());
  return out;
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(BinaryOp::Add, a, b);
  Shape sa = a.shape(), sb = b.shape();
  record(out, "add", {a, b}, [sa, sb](const Tensor& g) {
    return std::vector<Tensor>{sum_to(g, sa), sum_to(g, sb)};
  });
  return out;
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(BinaryOp::Sub, a, b);
  Shape sa = a.shape(), sb = b.shape();
  record(out, "sub", {a, b}, [sa, sb](const Tensor& g) {
    return std::vector<Tensor>{sum_to(g, sa), sum_to(neg(g), sb)};
  });
  return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(BinaryOp::Mul, a, b);
  bool ga = a.requires_grad(), gb = b.requires_grad();
  Tensor sa = a.detach(), sb = b.detach();
  record(out, "mul", {a, b}, [sa, sb, ga, gb](const Tensor& g) {
    return std::vector<Tensor>{ga ? sum_to(mul(g, sb), sa.shape()) : Tensor(),
                               gb ? sum_to(mul(g, sa), sb.shape()) : Tensor()};
  });
  return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(BinaryOp::Div, a, b);
  bool gb = b.requires_grad();
  Tensor sa = a.detach(), sb = b.detach(), so = out.detach();
  record(out, "div", {a, b}, [sa, sb, so, gb](const Tensor& g) {
    Tensor gq = div(g, sb);  // d(a/b)/da = 1/b; d(a/b)/db = -(a/b)/b
    return std::vector<Tensor>{sum_to(gq, sa.shape()),
                               gb ? sum_to(neg(mul(gq, so)), sb.shape()) : Tensor()};
  });
  return out;
}

Tensor scale(const Tensor& x, float factor) {
  detail::require_float(x, "scale", "input");
  Tensor c = x.contiguous();
  Tensor out = detail::empty_like_shape(c, c.shape());
  kernel_backend(c, Kernel::Affine).affine(c.view(), out.view(), factor, 0.0f);
  record(out, "scale", {x}, [factor](const Tensor& g) {
    return std::vector<Tensor>{scale(g, factor)};
  });
  return out;
}

Tensor add_scalar(const Tensor& x, float value) {
  detail::require_float(x, "add_scalar", "input");
  Tensor c = x.contiguous();
  Tensor out = detail::empty_like_shape(c, c.shape());
  kernel_backend(c, Kernel::Affine).affine(c.view(), out.view(), 1.0f, value);
  record(out, "add_scalar", {x}, [](const Tensor& g) { return std::vector<Tensor>{g}; });
  return out;
}

Tensor neg(const Tensor& x) {
  Tensor out = unary_forward(UnaryOp::Neg, x, "neg");
  record(out, "neg", {x}, [](const Tensor& g) { return std::vector<Tensor>{neg(g)}; });
  return out;
}

Tensor relu(const Tensor& x) {
  Tensor out = unary_forward(UnaryOp::Relu, x, "relu");
  Tensor saved = x.detach();
  record(out, "relu", {x}, [saved](const Tensor& g) {
    return std::vector<Tensor>{unary_grad(UnaryOp::Relu, saved.contiguous(), g)};
  });
  return out;
}

Tensor gelu(const Tensor& x) {
  Tensor out = unary_forward(UnaryOp::Gelu, x, "gelu");
  Tensor saved = x.detach();
  record(out, "gelu", {x}, [saved](const Tensor& g) {
    return std::vector<Tensor>{unary_grad(UnaryOp::Gelu, saved.contiguous(), g)};
  });
  return out;
}

Tensor exp(const Tensor& x) {
  Tensor out = unary_forward(UnaryOp::Exp, x, "exp");
  Tensor saved = out.detach();
  record(out, "exp", {x}, [saved](const Tensor& g) { return std::vector<Tensor>{mul(g, saved)}; });
  return out;
}

Tensor log(const Tensor& x) {
  Tensor out = unary_forward(UnaryOp::Log, x, "log");
  Tensor saved = x.detach();
  record(out, "log", {x}, [saved](const Tensor& g) { return std::vector<Tensor>{div(g, saved)}; });
  return out;
}

Tensor sqrt(const Tensor& x) {
  Tensor out = unary_forward(UnaryOp::Sqrt, x, "sqrt");
  Tensor saved = out.detach();
  record(out, "sqrt", {x}, [saved](const Tensor& g) {
    return std::vector<Tensor>{div(scale(g, 0.5f), saved)};
  });
  return out;
}

}  // namespace tessera
