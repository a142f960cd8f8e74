// cpu-ref backward kernels against central finite differences of the cpu-ref forward kernels,
// in f32. The scalar loss is a random projection of the forward output, L = sum(r * y); the
// backward kernel is given dy = r and must return dL/dinput. Each test states its step and
// tolerance: the forward runs in f32, so the difference quotient carries about
// 1e-7 * |L| / step of rounding noise on top of the O(step^2) truncation error.
#include <functional>

#include "backends/backend.h"
#include "kernel_harness.h"

namespace tessera::test {
namespace {

Backend& ref() { return backend("cpu-ref"); }

using Forward = std::function<std::vector<float>(const std::vector<float>&)>;

double project(const std::vector<float>& r, const std::vector<float>& y) {
  EXPECT_EQ(r.size(), y.size());
  double sum = 0.0;
  for (size_t i = 0; i < y.size(); ++i) sum += static_cast<double>(r[i]) * y[i];
  return sum;
}

// d/dx_i of sum(r * f(x)) by central differences with the given step, for every i.
std::vector<double> numeric_gradient(const Forward& f, std::vector<float> x,
                                     const std::vector<float>& r, float step) {
  std::vector<double> gradient(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    float saved = x[i];
    float up = saved + step, down = saved - step;
    x[i] = up;
    double loss_up = project(r, f(x));
    x[i] = down;
    double loss_down = project(r, f(x));
    x[i] = saved;
    gradient[i] = (loss_up - loss_down) / (static_cast<double>(up) - down);
  }
  return gradient;
}

// a - b elementwise (to take an accumulated gradient's starting value back out).
std::vector<float> minus(const std::vector<float>& a, const std::vector<float>& b) {
  std::vector<float> out(a.size());
  for (size_t i = 0; i < a.size(); ++i) out[i] = a[i] - b[i];
  return out;
}

const DType F32 = DType::F32;

TEST(ReferenceGradients, SoftmaxAndLogSoftmax) {
  // Step 1e-2; tolerance 2e-4 abs + 2e-3 rel (derivatives are O(1), |L| <= 3).
  const Shape shape = {3, 7};
  std::vector<float> x = random_values(21, 100, -2.0f, 2.0f), r = random_values(21, 101);
  for (bool log : {false, true}) {
    Forward forward = [&](const std::vector<float>& in) {
      Workspace ws(ref());
      View y = ws.output(F32, shape);
      if (log)
        ref().log_softmax(ws.input(F32, shape, in), y);
      else
        ref().softmax(ws.input(F32, shape, in), y);
      return ws.read(y);
    };
    Workspace ws(ref());
    View y = ws.input(F32, shape, forward(x)), dx = ws.output(F32, shape);
    View dy = ws.input(F32, shape, r);
    if (log)
      ref().log_softmax_backward(y, dy, dx);
    else
      ref().softmax_backward(y, dy, dx);
    expect_close(ws.read(dx), numeric_gradient(forward, x, r, 1e-2f), {2e-4, 2e-3},
                 log ? "log_softmax dx" : "softmax dx");
  }
}

TEST(ReferenceGradients, CrossEntropyIncludingAnIgnoredRow) {
  // Step 1e-2; tolerance 2e-4 abs + 2e-3 rel. Row 2's target is -1: its gradient is zero.
  const int64_t rows = 5, vocab = 7;
  std::vector<float> logits = random_values(rows * vocab, 102, -2.0f, 2.0f);
  std::vector<float> targets = {3, 0, -1, 6, 2};
  std::vector<float> r = random_values(rows, 103, 0.5f, 1.5f);
  Forward forward = [&](const std::vector<float>& in) {
    Workspace ws(ref());
    View losses = ws.output(F32, {rows}), lse = ws.output(F32, {rows});
    ref().cross_entropy(ws.input(F32, {rows, vocab}, in), ws.input(DType::I64, {rows}, targets),
                        losses, lse);
    return ws.read(losses);
  };
  Workspace ws(ref());
  View logits_view = ws.input(F32, {rows, vocab}, logits);
  View target_view = ws.input(DType::I64, {rows}, targets);
  View losses = ws.output(F32, {rows}), lse = ws.output(F32, {rows});
  ref().cross_entropy(logits_view, target_view, losses, lse);
  View dlogits = ws.output(F32, {rows, vocab});
  ref().cross_entropy_backward(logits_view, target_view, lse, ws.input(F32, {rows}, r), dlogits);
  std::vector<float> analytic = ws.read(dlogits);
  expect_close(analytic, numeric_gradient(forward, logits, r, 1e-2f), {2e-4, 2e-3},
               "cross_entropy dlogits");
  for (int64_t j = 0; j < vocab; ++j) EXPECT_EQ(analytic[2 * vocab + j], 0.0f);
  EXPECT_EQ(ws.read(losses)[2], 0.0f);
}

TEST(ReferenceGradients, LayerNormInputWeightAndBias) {
  // Step 1e-2; tolerance 5e-4 abs + 5e-3 rel (rstd ~ 1.7 scales the x derivatives).
  const int64_t rows = 3, channels = 8;
  const Shape shape = {rows, channels};
  std::vector<float> x = random_values(rows * channels, 104, -1.0f, 1.0f);
  std::vector<float> w = random_values(channels, 105, 0.5f, 1.5f);
  std::vector<float> b = random_values(channels, 106);
  std::vector<float> r = random_values(rows * channels, 107);
  auto layer_norm = [&](const std::vector<float>& xs, const std::vector<float>& ws_,
                        const std::vector<float>& bs) {
    Workspace ws(ref());
    View y = ws.output(F32, shape);
    ref().layer_norm(ws.input(F32, shape, xs), ws.input(F32, {channels}, ws_),
                     ws.input(F32, {channels}, bs), y, ws.output(F32, {rows}),
                     ws.output(F32, {rows}), 1e-5f);
    return ws.read(y);
  };
  // Analytic: dweight and dbias start from nonzero values, which the kernel adds to.
  std::vector<float> dw0 = random_values(channels, 108), db0 = random_values(channels, 109);
  Workspace ws(ref());
  View xv = ws.input(F32, shape, x), wv = ws.input(F32, {channels}, w);
  View mean = ws.output(F32, {rows}), rstd = ws.output(F32, {rows});
  ref().layer_norm(xv, wv, ws.input(F32, {channels}, b), ws.output(F32, shape), mean, rstd, 1e-5f);
  View dx = ws.output(F32, shape);
  View dw = ws.output(F32, {channels}, dw0), db = ws.output(F32, {channels}, db0);
  ref().layer_norm_backward(ws.input(F32, shape, r), xv, wv, mean, rstd, dx, dw, db);
  Tolerance tol = {5e-4, 5e-3};
  expect_close(ws.read(dx),
               numeric_gradient([&](const std::vector<float>& v) { return layer_norm(v, w, b); }, x,
                                r, 1e-2f),
               tol, "layer_norm dx");
  expect_close(minus(ws.read(dw), dw0),
               numeric_gradient([&](const std::vector<float>& v) { return layer_norm(x, v, b); }, w,
                                r, 1e-2f),
               tol, "layer_norm dweight");
  expect_close(minus(ws.read(db), db0),
               numeric_gradient([&](const std::vector<float>& v) { return layer_norm(x, w, v); }, b,
                                r, 1e-2f),
               tol, "layer_norm dbias");
}

TEST(ReferenceGradients, CausalAttentionQueryKeyValue) {
  // Step 1e-2; tolerance 2e-4 abs + 2e-3 rel.
  const Shape shape = {1, 2, 5, 4}, lse_shape = {1, 2, 5};
  const float scale = 0.5f;
  std::vector<float> q = random_values(40, 110), k = random_values(40, 111),
                     v = random_values(40, 112), r = random_values(40, 113);
  auto attention = [&](const std::vector<float>& qs, const std::vector<float>& ks,
                       const std::vector<float>& vs) {
    Workspace ws(ref());
    View out = ws.output(F32, shape);
    ref().attention(ws.input(F32, shape, qs), ws.input(F32, shape, ks), ws.input(F32, shape, vs),
                    out, ws.output(F32, lse_shape), scale);
    return ws.read(out);
  };
  Workspace ws(ref());
  View qv = ws.input(F32, shape, q), kv = ws.input(F32, shape, k), vv = ws.input(F32, shape, v);
  View out = ws.output(F32, shape), lse = ws.output(F32, lse_shape);
  ref().attention(qv, kv, vv, out, lse, scale);
  View dq = ws.output(F32, shape), dk = ws.output(F32, shape), dv = ws.output(F32, shape);
  ref().attention_backward(qv, kv, vv, out, lse, ws.input(F32, shape, r), dq, dk, dv, scale);
  Tolerance tol = {2e-4, 2e-3};
  expect_close(ws.read(dq),
               numeric_gradient([&](const std::vector<float>& x) { return attention(x, k, v); }, q,
                                r, 1e-2f),
               tol, "attention dq");
  expect_close(ws.read(dk),
               numeric_gradient([&](const std::vector<float>& x) { return attention(q, x, v); }, k,
                                r, 1e-2f),
               tol, "attention dk");
  expect_close(ws.read(dv),
               numeric_gradient([&](const std::vector<float>& x) { return attention(q, k, x); }, v,
                                r, 1e-2f),
               tol, "attention dv");
  // Causality: query 0 sees key 0 only, so changing key 4 leaves output row 0 as it was.
  std::vector<float> k2 = k;
  k2[4 * 4 + 0] += 1.0f;  // head 0, t = 4
  std::vector<float> before = attention(q, k, v), after = attention(q, k2, v);
  for (int d = 0; d < 4; ++d) EXPECT_EQ(before[d], after[d]);
}

TEST(ReferenceGradients, Conv2dInputWeightAndBias) {
  // Step 1e-2; tolerance 2e-4 abs + 2e-3 rel (conv is linear in each input, so only rounding
  // noise remains).
  struct Case {
    Shape x, w;
    Conv2dArgs args;
  };
  for (const Case& c :
       {Case{{2, 2, 5, 5}, {3, 2, 3, 3}, {2, 1}}, Case{{1, 3, 4, 5}, {2, 3, 2, 3}, {1, 0}}}) {
    Shape y_shape = {c.x[0], c.w[0], (c.x[2] + 2 * c.args.padding - c.w[2]) / c.args.stride + 1,
                     (c.x[3] + 2 * c.args.padding - c.w[3]) / c.args.stride + 1};
    std::vector<float> x = random_values(numel(c.x), 114), w = random_values(numel(c.w), 115);
    std::vector<float> b = random_values(c.w[0], 116), r = random_values(numel(y_shape), 117);
    auto conv = [&](const std::vector<float>& xs, const std::vector<float>& ws_,
                    const std::vector<float>& bs) {
      Workspace ws(ref());
      View y = ws.output(F32, y_shape);
      ref().conv2d(ws.input(F32, c.x, xs), ws.input(F32, c.w, ws_), ws.input(F32, {c.w[0]}, bs), y,
                   c.args);
      return ws.read(y);
    };
    std::vector<float> dw0 = random_values(numel(c.w), 118), db0 = random_values(c.w[0], 119);
    Workspace ws(ref());
    View dx = ws.output(F32, c.x), dw = ws.output(F32, c.w, dw0),
         db = ws.output(F32, {c.w[0]}, db0);
    ref().conv2d_backward(ws.input(F32, c.x, x), ws.input(F32, c.w, w), ws.input(F32, y_shape, r),
                          dx, dw, db, c.args);
    std::string label =
        " stride " + std::to_string(c.args.stride) + " padding " + std::to_string(c.args.padding);
    Tolerance tol = {2e-4, 2e-3};
    expect_close(
        ws.read(dx),
        numeric_gradient([&](const std::vector<float>& v) { return conv(v, w, b); }, x, r, 1e-2f),
        tol, "conv2d dx" + label);
    expect_close(
        minus(ws.read(dw), dw0),
        numeric_gradient([&](const std::vector<float>& v) { return conv(x, v, b); }, w, r, 1e-2f),
        tol, "conv2d dweight" + label);
    expect_close(
        minus(ws.read(db), db0),
        numeric_gradient([&](const std::vector<float>& v) { return conv(x, w, v); }, b, r, 1e-2f),
        tol, "conv2d dbias" + label);
  }
}

TEST(ReferenceGradients, MaxPool2dRoutesToTheArgMax) {
  // Distinct inputs spaced 0.01 apart and a step of 1e-3, so no perturbation changes an
  // arg-max; tolerance 1e-3 abs + 1e-3 rel. Kernel 3 stride 2 overlaps windows.
  const Shape shape = {1, 2, 7, 6};
  std::vector<float> x(numel(shape));
  std::vector<float> keys = random_values(x.size(), 120);
  for (size_t i = 0; i < x.size(); ++i) {
    int rank = 0;  // position of keys[i] in sorted order: a permutation of 0..n-1
    for (float key : keys) rank += key < keys[i];
    x[i] = 0.01f * static_cast<float>(rank) - 0.4f;
  }
  for (int64_t kernel : {2, 3}) {
    int64_t stride = 2;
    Shape y_shape = {1, 2, (7 - kernel) / stride + 1, (6 - kernel) / stride + 1};
    std::vector<float> r = random_values(numel(y_shape), 121);
    Forward forward = [&](const std::vector<float>& in) {
      Workspace ws(ref());
      View y = ws.output(F32, y_shape);
      ref().max_pool2d(ws.input(F32, shape, in), y, ws.output(DType::I64, y_shape), kernel, stride);
      return ws.read(y);
    };
    Workspace ws(ref());
    View y = ws.output(F32, y_shape), indices = ws.output(DType::I64, y_shape);
    ref().max_pool2d(ws.input(F32, shape, x), y, indices, kernel, stride);
    View dx = ws.output(F32, shape);
    ref().max_pool2d_backward(ws.input(F32, y_shape, r), indices, dx);
    expect_close(ws.read(dx), numeric_gradient(forward, x, r, 1e-3f), {1e-3, 1e-3},
                 "max_pool2d dx kernel " + std::to_string(kernel));
  }
}

TEST(ReferenceGradients, GeluAndRelu) {
  // gelu: step 1e-2, tolerance 1e-4 abs + 1e-3 rel. relu: inputs kept 0.05 away from the kink
  // and a step of 1e-3, tolerance 1e-3 abs (the quotient is exactly 0 or 1 up to rounding).
  std::vector<float> x = random_values(65, 122, -4.0f, 4.0f), r = random_values(65, 123);
  for (float& v : x)
    if (std::fabs(v) < 0.05f) v = v < 0 ? -0.05f : 0.05f;
  for (UnaryOp op : {UnaryOp::Gelu, UnaryOp::Relu}) {
    Forward forward = [&](const std::vector<float>& in) {
      Workspace ws(ref());
      View y = ws.output(F32, {65});
      ref().unary(op, ws.input(F32, {65}, in), y);
      return ws.read(y);
    };
    Workspace ws(ref());
    View grad_in = ws.output(F32, {65});
    ref().unary_backward(op, ws.input(F32, {65}, x), ws.input(F32, {65}, r), grad_in);
    bool gelu = op == UnaryOp::Gelu;
    expect_close(ws.read(grad_in), numeric_gradient(forward, x, r, gelu ? 1e-2f : 1e-3f),
                 gelu ? Tolerance{1e-4, 1e-3} : Tolerance{1e-3, 0.0}, gelu ? "gelu" : "relu");
  }
}

TEST(ReferenceGradients, EmbeddingTableWithRepeatedIds) {
  // Step 1e-2; tolerance 1e-4 abs + 1e-4 rel (the lookup is linear in the table).
  const int64_t count = 9, vocab = 4, channels = 3;
  std::vector<float> ids = {2, 0, 2, 3, 2, 0, 1, 3, 2};
  std::vector<float> table = random_values(vocab * channels, 124);
  std::vector<float> r = random_values(count * channels, 125);
  Forward forward = [&](const std::vector<float>& in) {
    Workspace ws(ref());
    View out = ws.output(F32, {count, channels});
    ref().embedding(ws.input(DType::I32, {count}, ids), ws.input(F32, {vocab, channels}, in), out);
    return ws.read(out);
  };
  std::vector<float> dtable0 = random_values(vocab * channels, 126);
  Workspace ws(ref());
  View dtable = ws.output(F32, {vocab, channels}, dtable0);
  ref().embedding_backward(ws.input(DType::I32, {count}, ids), ws.input(F32, {count, channels}, r),
                           dtable);
  expect_close(minus(ws.read(dtable), dtable0), numeric_gradient(forward, table, r, 1e-2f),
               {1e-4, 1e-4}, "embedding dtable");
}

}  // namespace
}  // namespace tessera::test
