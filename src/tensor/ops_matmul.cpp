// Batched matrix products with transposes, and their gradients.
#include "base/error.h"
#include "tensor/autograd.h"
#include "tensor/dispatch.h"
#include "tensor/op_helpers.h"
#include "tensor/ops.h"

namespace tessera {

namespace {

// The product without autograd. a: (..., M, K) [or (..., K, M) transposed], b: (..., K, N)
// [or (..., N, K)] or 2-D; leading dims of a and b must agree when b is not 2-D.
Tensor matmul_forward(const Tensor& a_in, const Tensor& b_in, bool ta, bool tb) {
  check_same_device("matmul", {&a_in, &b_in});
  if (a_in.dim() < 2 || b_in.dim() < 2)
    fail("matmul: operands need at least 2 dimensions, got {} and {}", shape_str(a_in.shape()),
         shape_str(b_in.shape()));
  DType dtype = detail::promote(a_in.dtype(), b_in.dtype(), "matmul");
  Tensor a = cast(a_in, dtype).contiguous(), b = cast(b_in, dtype).contiguous();
  if (a.dim() == 2 && b.dim() > 2) {  // a shared by b's batch: materialise it per entry
    Shape expanded(b.shape().begin(), b.shape().end() - 2);
    expanded.insert(expanded.end(), a.shape().begin(), a.shape().end());
    a = expand(a, expanded);
  }
  const Shape& sa = a.shape();
  const Shape& sb = b.shape();
  int64_t m = sa[sa.size() - (ta ? 1 : 2)], ka = sa[sa.size() - (ta ? 2 : 1)];
  int64_t kb = sb[sb.size() - (tb ? 1 : 2)], n = sb[sb.size() - (tb ? 2 : 1)];
  Shape batch_a(sa.begin(), sa.end() - 2), batch_b(sb.begin(), sb.end() - 2);
  bool shared_b = batch_b.empty();
  if (ka != kb || (!shared_b && batch_a != batch_b))
    fail("matmul: shapes {}{} and {}{} do not agree", shape_str(sa), ta ? "^T" : "",
         shape_str(sb), tb ? "^T" : "");
  int64_t batch = numel(batch_a);
  Shape out_shape = batch_a;
  out_shape.push_back(m);
  out_shape.push_back(n);
  Tensor out = Tensor::empty(out_shape, dtype, a.device());
  MatmulArgs args;
  args.k = ka;
  args.n = n;
  args.transpose_a = ta;
  args.transpose_b = tb;
  if (shared_b && !ta) {  // fold the batch into M: one large GEMM
    args.batch = 1;
    args.m = batch * m;
  } else {
    args.batch = batch;
    args.m = m;
    args.batch_stride_a = m * ka;
    args.batch_stride_b = shared_b ? 0 : kb * n;
    args.batch_stride_out = m * n;
  }
  kernel_backend(a, Kernel::Matmul).matmul(a.view(), b.view(), out.view(), args);
  return out;
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b, bool ta, bool tb) {
  Tensor out = matmul_forward(a, b, ta, tb);
  bool ga = a.requires_grad(), gb = b.requires_grad();
  Tensor sa = a.detach(), sb = b.detach();
  record(out, "matmul", {a, b}, [=](const Tensor& g) {
    // With C = op(A) op(B):  d op(A) = dC op(B)^T,  d op(B) = op(A)^T dC.
    Tensor da, db;
    if (ga) {
      da = ta ? matmul(sb, g, tb, true) : matmul(g, sb, false, !tb);
      if (sa.dim() == 2 && sb.dim() > 2) da = sum_to(da, sa.shape());  // a shared by the batch
    }
    if (gb) {
      if (sb.dim() == 2 && sa.dim() > 2) {  // b shared by the batch: sum over it
        Tensor a2 = reshape(sa, {-1, sa.size(-1)});
        Tensor g2 = reshape(g, {-1, g.size(-1)});
        if (ta) {  // a (batch, K, M): one product per batch entry, summed
          Tensor a3 = reshape(sa, {-1, sa.size(-2), sa.size(-1)});
          Tensor g3 = reshape(g, {-1, g.size(-2), g.size(-1)});
          db = sum(tb ? matmul(g3, a3, true, true) : matmul(a3, g3, false, false), {0}, false);
        } else {
          db = tb ? matmul(g2, a2, true, false) : matmul(a2, g2, true, false);
        }
      } else {
        db = tb ? matmul(g, sa, true, ta) : matmul(sa, g, !ta, false);
      }
    }
    return std::vector<Tensor>{da, db};
  });
  return out;
}

}  // namespace tessera
