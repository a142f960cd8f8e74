// Neural-network ops: softmax, log-softmax, cross-entropy, layer norm, embedding, attention,
// dropout, and their gradients (each backed by a fused backend kernel).
#include <cmath>

#include "base/error.h"
#include "tensor/autograd.h"
#include "tensor/dispatch.h"
#include "tensor/op_helpers.h"
#include "tensor/ops.h"

namespace tessera {

namespace {

void require_index(const Tensor& t, const char* op, const char* what) {
  if (t.dtype() != DType::I32 && t.dtype() != DType::I64)
    fail("{}: {} must be an integer (i32 or i64) tensor, got {}", op, what, dtype_name(t.dtype()));
}

}  // namespace

Tensor softmax(const Tensor& x_in) {
  detail::require_float(x_in, "softmax", "input");
  Tensor x = x_in.contiguous();
  Tensor y = detail::empty_like_shape(x, x.shape());
  kernel_backend(x, Kernel::Softmax).softmax(x.view(), y.view());
  Tensor saved = y.detach();
  record(y, "softmax", {x_in}, [saved](const Tensor& g) {
    Tensor gc = cast(g, saved.dtype()).contiguous();
    Tensor dx = detail::empty_like_shape(saved, saved.shape());
    kernel_backend(saved, Kernel::SoftmaxBackward).softmax_backward(saved.view(), gc.view(), dx.view());
    return std::vector<Tensor>{dx};
  });
  return y;
}

Tensor log_softmax(const Tensor& x_in) {
  detail::require_float(x_in, "log_softmax", "input");
  Tensor x = x_in.contiguous();
  Tensor y = detail::empty_like_shape(x, x.shape());
  kernel_backend(x, Kernel::LogSoftmax).log_softmax(x.view(), y.view());
  Tensor saved = y.detach();
  record(y, "log_softmax", {x_in}, [saved](const Tensor& g) {
    Tensor gc = cast(g, saved.dtype()).contiguous();
    Tensor dx = detail::empty_like_shape(saved, saved.shape());
    kernel_backend(saved, Kernel::LogSoftmaxBackward).log_softmax_backward(saved.view(), gc.view(), dx.view());
    return std::vector<Tensor>{dx};
  });
  return y;
}

Tensor cross_entropy(const Tensor& logits_in, const Tensor& targets_in) {
  detail::require_float(logits_in, "cross_entropy", "logits");
  require_index(targets_in, "cross_entropy", "targets");
  check_same_device("cross_entropy", {&logits_in, &targets_in});
  if (logits_in.dim() != 2 || targets_in.dim() != 1 || targets_in.size(0) != logits_in.size(0))
    fail("cross_entropy: logits {} and targets {} do not match: expected (N, V) and (N,)",
         shape_str(logits_in.shape()), shape_str(targets_in.shape()));
  Tensor logits = logits_in.contiguous(), targets = targets_in.contiguous();
  int64_t rows = logits.size(0), classes = logits.size(1);
  std::vector<int64_t> ids = targets.to_ints();
  int64_t counted = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] >= classes)
      fail("cross_entropy: target {} at position {} is out of range for {} classes", ids[i], i, classes);
    if (ids[i] >= 0) ++counted;
  }
  Tensor losses = Tensor::empty({rows}, DType::F32, logits.device());
  Tensor lse = Tensor::empty({rows}, DType::F32, logits.device());
  kernel_backend(logits, Kernel::CrossEntropy).cross_entropy(logits.view(), targets.view(), losses.view(), lse.view());
  float inv_count = 1.0f / static_cast<float>(std::max<int64_t>(1, counted));
  Tensor out;
  {
    NoGradGuard no_grad;
    out = scale(sum(losses), inv_count);
  }
  Tensor saved_logits = logits.detach();
  record(out, "cross_entropy", {logits_in}, [saved_logits, targets, lse, inv_count, rows](const Tensor& g) {
    Tensor dlosses = Tensor::full({rows}, g.item() * inv_count, DType::F32, g.device());
    Tensor dlogits = detail::empty_like_shape(saved_logits, saved_logits.shape());
    kernel_backend(saved_logits, Kernel::CrossEntropyBackward)
        .cross_entropy_backward(saved_logits.view(), targets.view(), lse.view(), dlosses.view(), dlogits.view());
    return std::vector<Tensor>{dlogits};
  });
  return out;
}

Tensor layer_norm(const Tensor& x_in, const Tensor& weight, const Tensor& bias, float eps) {
  detail::require_float(x_in, "layer_norm", "input");
  check_same_device("layer_norm", {&x_in, &weight, &bias});
  int64_t channels = x_in.size(-1);
  if (weight.shape() != Shape{channels} || bias.shape() != Shape{channels})
    fail("layer_norm: weight {} and bias {} must have shape ({},) for input {}",
         shape_str(weight.shape()), shape_str(bias.shape()), channels, shape_str(x_in.shape()));
  DType dtype = x_in.dtype();
  Tensor x = x_in.contiguous();
  Tensor w = cast(weight, dtype).contiguous(), b = cast(bias, dtype).contiguous();
  int64_t rows = x.numel() / std::max<int64_t>(1, channels);
  Tensor y = detail::empty_like_shape(x, x.shape());
  Tensor mean = Tensor::empty({rows}, DType::F32, x.device());
  Tensor rstd = Tensor::empty({rows}, DType::F32, x.device());
  kernel_backend(x, Kernel::LayerNorm).layer_norm(x.view(), w.view(), b.view(), y.view(), mean.view(), rstd.view(), eps);
  Tensor sx = x.detach(), sw = w.detach();
  DType wdtype = weight.dtype(), bdtype = bias.dtype();
  record(y, "layer_norm", {x_in, weight, bias}, [=](const Tensor& g) {
    Tensor gc = cast(g, dtype).contiguous();
    Tensor dx = detail::empty_like_shape(sx, sx.shape());
    Tensor dw = Tensor::zeros({channels}, dtype, sx.device());
    Tensor db = Tensor::zeros({channels}, dtype, sx.device());
    kernel_backend(sx, Kernel::LayerNormBackward)
        .layer_norm_backward(gc.view(), sx.view(), sw.view(), mean.view(), rstd.view(), dx.view(), dw.view(), db.view());
    return std::vector<Tensor>{dx, cast(dw, wdtype), cast(db, bdtype)};
  });
  return y;
}

Tensor embedding(const Tensor& ids_in, const Tensor& table) {
  require_index(ids_in, "embedding", "ids");
  detail::require_float(table, "embedding", "table");
  check_same_device("embedding", {&ids_in, &table});
  if (table.dim() != 2) fail("embedding: table must be (V, C), got {}", shape_str(table.shape()));
  Tensor ids = ids_in.contiguous();
  int64_t vocab = table.size(0), channels = table.size(1);
  std::vector<int64_t> host = ids.to_ints();
  for (size_t i = 0; i < host.size(); ++i)
    if (host[i] < 0 || host[i] >= vocab)
      fail("embedding: token id {} at position {} is out of range [0, {})", host[i], i, vocab);
  Shape out_shape = ids.shape();
  out_shape.push_back(channels);
  Tensor t = table.contiguous();
  Tensor out = detail::empty_like_shape(t, out_shape);
  kernel_backend(t, Kernel::Embedding).embedding(ids.view(), t.view(), out.view());
  Shape table_shape = table.shape();
  DType dtype = table.dtype();
  record(out, "embedding", {ids_in, table}, [ids, table, table_shape, dtype](const Tensor& g) {
    Tensor gc = cast(g, dtype).contiguous();
    // A leaf table whose gradient sum no one else holds (GPT-2's, which its tied output head
    // gave first) takes the rows in place: no zeroed table-sized tensor and no second sum.
    if (!table.grad_fn() && table.requires_grad()) {
      Tensor sum = table.grad();
      table.set_grad(Tensor());
      bool in_place = detail::summable_in_place(sum, table);
      if (in_place)
        kernel_backend(gc, Kernel::EmbeddingBackward).embedding_backward(ids.view(), gc.view(), sum.view());
      table.set_grad(sum);
      if (in_place) return std::vector<Tensor>{Tensor(), Tensor()};
    }
    Tensor dtable = Tensor::zeros(table_shape, dtype, gc.device());
    kernel_backend(gc, Kernel::EmbeddingBackward).embedding_backward(ids.view(), gc.view(), dtable.view());
    return std::vector<Tensor>{Tensor(), dtable};
  });
  return out;
}

Tensor causal_attention(const Tensor& q_in, const Tensor& k_in, const Tensor& v_in) {
  check_same_device("causal_attention", {&q_in, &k_in, &v_in});
  detail::require_float(q_in, "causal_attention", "q");
  if (q_in.dim() != 4 || k_in.shape() != q_in.shape() || v_in.shape() != q_in.shape())
    fail("causal_attention: q {}, k {} and v {} must share one (B, H, T, D) shape",
         shape_str(q_in.shape()), shape_str(k_in.shape()), shape_str(v_in.shape()));
  DType dtype = q_in.dtype();
  Tensor q = q_in.contiguous(), k = cast(k_in, dtype).contiguous(), v = cast(v_in, dtype).contiguous();
  const Shape& s = q.shape();
  float scale_factor = 1.0f / std::sqrt(static_cast<float>(s[3]));
  Tensor out = detail::empty_like_shape(q, s);
  Tensor lse = Tensor::empty({s[0], s[1], s[2]}, DType::F32, q.device());
  kernel_backend(q, Kernel::Attention).attention(q.view(), k.view(), v.view(), out.view(), lse.view(), scale_factor);
  Tensor sq = q.detach(), sk = k.detach(), sv = v.detach(), so = out.detach();
  record(out, "causal_attention", {q_in, k_in, v_in}, [=](const Tensor& g) {
    Tensor gc = cast(g, dtype).contiguous();
    Tensor dq = detail::empty_like_shape(sq, s), dk = detail::empty_like_shape(sq, s),
           dv = detail::empty_like_shape(sq, s);
    kernel_backend(sq, Kernel::AttentionBackward)
        .attention_backward(sq.view(), sk.view(), sv.view(), so.view(), lse.view(), gc.view(),
                            dq.view(), dk.view(), dv.view(), scale_factor);
    return std::vector<Tensor>{dq, dk, dv};
  });
  return out;
}

namespace {
// Columns [part * C, (part + 1) * C) of a contiguous (B, T, width) tensor as (B, H, T, D) heads.
View head_view(const Tensor& t, int64_t part, int64_t heads, int64_t C) {
  View v = t.view();
  int64_t B = t.size(0), T = t.size(1), width = t.size(2), D = C / heads;
  v.data = static_cast<uint8_t*>(v.data) + part * C * static_cast<int64_t>(dtype_size(t.dtype()));
  v.shape = {B, heads, T, D};
  v.strides = {T * width, D, width, 1};
  return v;
}
}  // namespace

Tensor causal_self_attention(const Tensor& qkv_in, int64_t heads) {
  detail::require_float(qkv_in, "causal_self_attention", "qkv");
  if (qkv_in.dim() != 3 || qkv_in.size(2) % 3 != 0 || heads <= 0 || qkv_in.size(2) / 3 % heads != 0)
    fail("causal_self_attention: qkv {} is not (B, T, 3C) with C a multiple of the {} heads",
         shape_str(qkv_in.shape()), heads);
  Tensor qkv = qkv_in.contiguous();
  DType dtype = qkv.dtype();
  int64_t B = qkv.size(0), T = qkv.size(1), C = qkv.size(2) / 3;
  float scale_factor = 1.0f / std::sqrt(static_cast<float>(C / heads));
  Tensor out = detail::empty_like_shape(qkv, {B, T, C});
  Tensor lse = Tensor::empty({B, heads, T}, DType::F32, qkv.device());
  auto part = [heads, C](const Tensor& t, int64_t i) { return head_view(t, i, heads, C); };
  kernel_backend(qkv, Kernel::Attention)
      .attention(part(qkv, 0), part(qkv, 1), part(qkv, 2), part(out, 0), lse.view(), scale_factor);
  Tensor saved = qkv.detach(), saved_out = out.detach();
  record(out, "causal_self_attention", {qkv_in}, [=](const Tensor& g) {
    Tensor gc = cast(g, dtype).contiguous();
    Tensor dqkv = detail::empty_like_shape(saved, saved.shape());
    kernel_backend(saved, Kernel::AttentionBackward)
        .attention_backward(part(saved, 0), part(saved, 1), part(saved, 2), part(saved_out, 0), lse.view(),
                            part(gc, 0), part(dqkv, 0), part(dqkv, 1), part(dqkv, 2), scale_factor);
    return std::vector<Tensor>{dqkv};
  });
  return out;
}

Tensor dropout(const Tensor& x, float p, Generator& gen, bool training) {
  if (p < 0.0f || p >= 1.0f) fail("dropout: probability {} is outside [0, 1)", p);
  if (!training || p == 0.0f) return x;
  detail::require_float(x, "dropout", "input");
  Tensor mask = detail::empty_like_shape(x, x.shape());
  uint64_t counter = gen.take(static_cast<uint64_t>(x.numel()));
  kernel_backend(mask, Kernel::DropoutMask).dropout_mask(mask.view(), p, gen.seed, counter);
  return mul(x, mask);
}

}  // namespace tessera
