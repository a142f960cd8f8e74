// The fast CPU backend ("cpu") on shapes large enough to take its threaded, vectorised paths
// (full 16-lane bodies, masked tails, several sgemm panels): each case matches cpu-ref within
// the harness tolerances and gives bit-identical results on 1, 2 and 3 threads.
#include <fmt/format.h>
#include <omp.h>

#include <cstring>
#include <numeric>

#include "backends/backend.h"
#include "kernel_harness.h"

namespace tessera::test {
namespace {

// Runs `run` on "cpu" against cpu-ref, then on 1, 2 and 3 threads, expecting equal bits.
void expect_fast_case(const KernelCase& run, Tolerance tol, const std::string& what) {
  Backend& fast = backend("cpu");
  expect_matches_reference(fast, run, tol, what);
  int saved_threads = omp_get_max_threads();
  std::vector<std::vector<float>> first;
  for (int threads : {1, 2, 3}) {
    omp_set_num_threads(threads);
    Workspace ws(fast);
    std::vector<View> outputs = run(ws);
    for (size_t i = 0; i < outputs.size(); ++i) {
      std::vector<float> values = ws.read(outputs[i]);
      if (threads == 1) {
        first.push_back(values);
        continue;
      }
      bool same = values.size() == first[i].size() &&
                  std::memcmp(values.data(), first[i].data(), values.size() * sizeof(float)) == 0;
      EXPECT_TRUE(same) << what << ", output " << i << ": " << threads
                        << " threads differ from 1 thread";
    }
  }
  omp_set_num_threads(saved_threads);
}

std::vector<float> ids_values(size_t n, uint64_t seed, int64_t vocab) {
  return random_ints(n, seed, 0, vocab);
}

TEST(FastBackend, IsTheDefaultCpuDevice) {
  EXPECT_EQ(backend("cpu").name(), "cpu");
  EXPECT_EQ(backend("cpu-ref").name(), "cpu-ref");
}

TEST(FastBackend, RecycledBlocksComeBackZeroedAndAligned) {
  Backend& fast = backend("cpu");
  const size_t bytes = (1 << 20) + 12;
  void* first = nullptr;
  {
    std::shared_ptr<void> block = fast.allocate(bytes);
    first = block.get();
    std::memset(block.get(), 0x5A, bytes);
  }
  std::shared_ptr<void> again = fast.allocate(bytes);
  EXPECT_EQ(again.get(), first);  // the freed block was reused
  EXPECT_EQ(reinterpret_cast<uintptr_t>(again.get()) % 64, 0u);
  const auto* p = static_cast<const unsigned char*>(again.get());
  size_t nonzero = 0;
  for (size_t i = 0; i < bytes; ++i) nonzero += p[i] != 0;
  EXPECT_EQ(nonzero, 0u);
}

// Wide products are split into column panels, tall ones into row panels; bf16 operands are
// converted panel by panel.
TEST(FastBackend, MatmulPanelsTransposesBatchesAndAccumulation) {
  const int64_t batch = 3, k = 129;
  for (auto [m, n] : {std::pair<int64_t, int64_t>{67, 1029}, {1029, 67}})
    for (DType dtype : {DType::F32, DType::BF16})
      for (bool ta : {false, true})
        for (bool tb : {false, true})
          for (bool acc : {false, true}) {
            MatmulArgs args{batch, m, n, k, ta, tb, m * k, k * n, m * n, acc};
            Tolerance tol = plus_abs(storage_tolerance(dtype), 1e-6 * k);
            expect_fast_case(
                [&](Workspace& ws) {
                  View a = ws.input(dtype, {batch, ta ? k : m, ta ? m : k},
                                    random_values(batch * m * k, 1));
                  View b = ws.input(dtype, {batch, tb ? n : k, tb ? k : n},
                                    random_values(batch * k * n, 2));
                  View out = ws.output(dtype, {batch, m, n}, random_values(batch * m * n, 3));
                  ws.backend().matmul(a, b, out, args);
                  return std::vector<View>{out};
                },
                tol,
                fmt::format("matmul ({}, {}, {}) {} ta={} tb={} accumulate={}", m, n, k,
                            dtype_name(dtype), ta, tb, acc));
          }
}

// OpenBLAS sums small products (this one) in an order that depends on the panel width, so a
// split that followed the thread count would change the bits here.
TEST(FastBackend, MatmulSmallProductIsThreadCountIndependent) {
  const int64_t m = 37, n = 1010, k = 53;
  MatmulArgs args{1, m, n, k, false, false, 0, 0, 0, false};
  expect_fast_case(
      [&](Workspace& ws) {
        View a = ws.input(DType::F32, {m, k}, random_values(m * k, 44));
        View b = ws.input(DType::F32, {k, n}, random_values(k * n, 45));
        View out = ws.output(DType::F32, {m, n});
        ws.backend().matmul(a, b, out, args);
        return std::vector<View>{out};
      },
      plus_abs(storage_tolerance(DType::F32), 1e-6 * k), "matmul (37, 1010, 53)");
}

TEST(FastBackend, MatmulSharedRightOperandAndBf16) {
  const int64_t m = 64, n = 300, k = 96, batch = 4;
  for (DType dtype : {DType::F32, DType::BF16}) {
    MatmulArgs args{batch, m, n, k, false, true, m * k, 0, m * n, false};
    Tolerance tol = plus_abs(storage_tolerance(dtype), 1e-6 * k);
    expect_fast_case(
        [&](Workspace& ws) {
          View a = ws.input(dtype, {batch, m, k}, random_values(batch * m * k, 4));
          View b = ws.input(dtype, {n, k}, random_values(n * k, 5));
          View out = ws.output(dtype, {batch, m, n});
          ws.backend().matmul(a, b, out, args);
          return std::vector<View>{out};
        },
        tol, "matmul shared weight " + std::string(dtype_name(dtype)));
  }
}

TEST(FastBackend, CopyPermutesAndConverts) {
  const Shape bthd = {2, 70, 3, 40};
  expect_fast_case(
      [&](Workspace& ws) {
        View x = ws.input(DType::F32, bthd, random_values(numel(bthd), 6));
        View permuted = x;  // (B, H, T, D) read from (B, T, H, D)
        permuted.shape = {2, 3, 70, 40};
        permuted.strides = {70 * 3 * 40, 40, 3 * 40, 1};
        View out = ws.output(DType::F32, permuted.shape);
        ws.backend().copy(permuted, out);
        View narrow = ws.output(DType::BF16, {100003});
        View wide = ws.input(DType::F32, {100003}, random_values(100003, 7, -1e3f, 1e3f));
        ws.backend().copy(wide, narrow);
        return std::vector<View>{out, narrow};
      },
      Tolerance{}, "copy permute and f32 -> bf16");
}

TEST(FastBackend, BinaryBiasAddAndScalarBroadcast) {
  const int64_t rows = 300, cols = 1001;
  for (BinaryOp op : {BinaryOp::Add, BinaryOp::Mul, BinaryOp::Div})
    expect_fast_case(
        [&](Workspace& ws) {
          View a = ws.input(DType::F32, {rows, cols}, random_values(rows * cols, 8));
          View bias = ws.input(DType::F32, {cols}, random_values(cols, 9, 0.5f, 1.5f));
          bias.shape = {rows, cols};
          bias.strides = {0, 1};
          View out = ws.output(DType::F32, {rows, cols});
          ws.backend().binary(op, a, bias, out);
          View scalar = ws.input(DType::F32, {1}, {2.5f});
          scalar.shape = {rows, cols};
          scalar.strides = {0, 0};
          View transposed = ws.input(DType::F32, {cols, rows}, random_values(rows * cols, 10));
          transposed.shape = {rows, cols};
          transposed.strides = {1, rows};
          View out2 = ws.output(DType::F32, {rows, cols});
          ws.backend().binary(op, scalar, transposed, out2);
          return std::vector<View>{out, out2};
        },
        storage_tolerance(DType::F32), "binary broadcast");
}

TEST(FastBackend, UnaryGeluReluExpAndBackward) {
  const int64_t n = 100003;
  for (DType dtype : {DType::F32, DType::BF16})
    for (UnaryOp op : {UnaryOp::Gelu, UnaryOp::Relu, UnaryOp::Exp})
      expect_fast_case(
          [&](Workspace& ws) {
            View x = ws.input(dtype, {n}, random_values(n, 11, -6.0f, 6.0f));
            View dy = ws.input(dtype, {n}, random_values(n, 12));
            View y = ws.output(dtype, {n});
            ws.backend().unary(op, x, y);
            std::vector<View> outs{y};
            if (op != UnaryOp::Exp) {
              View dx = ws.output(dtype, {n});
              ws.backend().unary_backward(op, x, dy, dx);
              outs.push_back(dx);
            }
            return outs;
          },
          storage_tolerance(dtype), "unary " + std::string(dtype_name(dtype)));
}

TEST(FastBackend, ReduceSumRowsColumnsAndSumSquares) {
  expect_fast_case(
      [&](Workspace& ws) {
        View x = ws.input(DType::F32, {7, 1000, 33}, random_values(7 * 1000 * 33, 13));
        View columns = ws.output(DType::F32, {7, 33});
        ws.backend().reduce(ReduceOp::Sum, x, columns, 7, 1000, 33);
        View rows = ws.output(DType::F32, {3});
        ws.backend().reduce(ReduceOp::Sum, x, rows, 3, 7 * 1000 * 11, 1);
        View squares =
            ws.output(DType::F32, {1}, {static_cast<float>(ws.backend().sum_squares(x))});
        return std::vector<View>{columns, rows, squares};
      },
      plus_abs(storage_tolerance(DType::F32), 1e-6 * 1000), "reduce and sum_squares");
}

TEST(FastBackend, CrossEntropyOverGpt2Vocabulary) {
  const int64_t rows = 12, vocab = 50257;
  expect_fast_case(
      [&](Workspace& ws) {
        View logits =
            ws.input(DType::F32, {rows, vocab}, random_values(rows * vocab, 14, -8.0f, 8.0f));
        std::vector<float> target_values = ids_values(rows, 15, vocab);
        target_values[3] = -1.0f;  // ignored row
        View targets = ws.input(DType::I64, {rows}, target_values);
        View losses = ws.output(DType::F32, {rows}), lse = ws.output(DType::F32, {rows});
        ws.backend().cross_entropy(logits, targets, losses, lse);
        View dlosses = ws.input(DType::F32, {rows}, random_values(rows, 16));
        View dlogits = ws.output(DType::F32, {rows, vocab});
        ws.backend().cross_entropy_backward(logits, targets, lse, dlosses, dlogits);
        View probs = ws.output(DType::F32, {rows, vocab});
        ws.backend().softmax(logits, probs);
        return std::vector<View>{losses, lse, dlogits, probs};
      },
      storage_tolerance(DType::F32), "cross_entropy vocab 50257");
}

TEST(FastBackend, LayerNormAndBackwardOnGpt2Rows) {
  const int64_t rows = 333, channels = 768;
  expect_fast_case(
      [&](Workspace& ws) {
        View x =
            ws.input(DType::F32, {rows, channels}, random_values(rows * channels, 17, -3.0f, 3.0f));
        View w = ws.input(DType::F32, {channels}, random_values(channels, 18));
        View b = ws.input(DType::F32, {channels}, random_values(channels, 19));
        View y = ws.output(DType::F32, {rows, channels});
        View mean = ws.output(DType::F32, {rows}), rstd = ws.output(DType::F32, {rows});
        ws.backend().layer_norm(x, w, b, y, mean, rstd, 1e-5f);
        View dy = ws.input(DType::F32, {rows, channels}, random_values(rows * channels, 20));
        View dx = ws.output(DType::F32, {rows, channels});
        View dw = ws.output(DType::F32, {channels}, random_values(channels, 21));
        View db = ws.output(DType::F32, {channels}, random_values(channels, 22));
        ws.backend().layer_norm_backward(dy, x, w, mean, rstd, dx, dw, db);
        return std::vector<View>{y, mean, rstd, dx, dw, db};
      },
      plus_abs(storage_tolerance(DType::F32), 1e-6 * rows), "layer_norm (333, 768)");
}

TEST(FastBackend, EmbeddingBackwardAddsRepeatedIdsInOrder) {
  const int64_t count = 500, vocab = 50, channels = 200;
  expect_fast_case(
      [&](Workspace& ws) {
        View ids = ws.input(DType::I32, {count}, ids_values(count, 23, vocab));
        View table = ws.input(DType::F32, {vocab, channels}, random_values(vocab * channels, 24));
        View out = ws.output(DType::F32, {count, channels});
        ws.backend().embedding(ids, table, out);
        View dout = ws.input(DType::F32, {count, channels}, random_values(count * channels, 25));
        View dtable = ws.output(DType::F32, {vocab, channels}, random_values(vocab * channels, 26));
        ws.backend().embedding_backward(ids, dout, dtable);
        return std::vector<View>{out, dtable};
      },
      plus_abs(storage_tolerance(DType::F32), 1e-6 * count), "embedding (500 ids, 50 x 200)");
}

TEST(FastBackend, CausalAttentionAndBackward) {
  const Shape shape = {2, 3, 70, 40};
  const int64_t n = numel(shape);
  expect_fast_case(
      [&](Workspace& ws) {
        View q = ws.input(DType::F32, shape, random_values(n, 27));
        View k = ws.input(DType::F32, shape, random_values(n, 28));
        View v = ws.input(DType::F32, shape, random_values(n, 29));
        View out = ws.output(DType::F32, shape), lse = ws.output(DType::F32, {2, 3, 70});
        ws.backend().attention(q, k, v, out, lse, 0.158f);
        View dout = ws.input(DType::F32, shape, random_values(n, 30));
        View dq = ws.output(DType::F32, shape), dk = ws.output(DType::F32, shape),
             dv = ws.output(DType::F32, shape);
        ws.backend().attention_backward(q, k, v, out, lse, dout, dq, dk, dv, 0.158f);
        return std::vector<View>{out, lse, dq, dk, dv};
      },
      plus_abs(storage_tolerance(DType::F32), 1e-6 * 70), "attention (2, 3, 70, 40)");
}

TEST(FastBackend, Conv2dIm2colAndBackward) {
  for (int64_t stride : {1, 2}) {
    Conv2dArgs args{stride, 1};
    int64_t oh = (15 + 2 - 3) / stride + 1, ow = (13 + 2 - 3) / stride + 1;
    expect_fast_case(
        [&](Workspace& ws) {
          View x = ws.input(DType::F32, {9, 3, 15, 13}, random_values(9 * 3 * 15 * 13, 31));
          View w = ws.input(DType::F32, {8, 3, 3, 3}, random_values(8 * 27, 32));
          View b = ws.input(DType::F32, {8}, random_values(8, 33));
          View y = ws.output(DType::F32, {9, 8, oh, ow});
          ws.backend().conv2d(x, w, b, y, args);
          View dy = ws.input(DType::F32, {9, 8, oh, ow}, random_values(9 * 8 * oh * ow, 34));
          View dx = ws.output(DType::F32, {9, 3, 15, 13});
          View dw = ws.output(DType::F32, {8, 3, 3, 3}, random_values(8 * 27, 35));
          View db = ws.output(DType::F32, {8}, random_values(8, 36));
          ws.backend().conv2d_backward(x, w, dy, dx, dw, db, args);
          View pooled = ws.output(DType::F32, {9, 8, oh / 2, ow / 2});
          View indices = ws.output(DType::I64, {9, 8, oh / 2, ow / 2});
          ws.backend().max_pool2d(y, pooled, indices, 2, 2);
          View dpooled = ws.input(DType::F32, {9, 8, oh / 2, ow / 2},
                                  random_values(9 * 8 * (oh / 2) * (ow / 2), 43));
          View dpool = ws.output(DType::F32, {9, 8, oh, ow});
          ws.backend().max_pool2d_backward(dpooled, indices, dpool);
          return std::vector<View>{y, dx, dw, db, pooled, indices, dpool};
        },
        plus_abs(storage_tolerance(DType::F32), 1e-6 * 9 * oh * ow),
        fmt::format("conv2d stride {}", stride));
  }
}

TEST(FastBackend, AdamWAndSgdOnALargeTensor) {
  const int64_t n = 100003;
  expect_fast_case(
      [&](Workspace& ws) {
        View p = ws.output(DType::F32, {n}, random_values(n, 37));
        View g = ws.input(DType::F32, {n}, random_values(n, 38));
        View m = ws.output(DType::F32, {n}, random_values(n, 39, -0.1f, 0.1f));
        View v = ws.output(DType::F32, {n}, random_values(n, 40, 0.0f, 0.01f));
        ws.backend().adamw(p, g, m, v, AdamWArgs{1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, 7});
        View p2 = ws.output(DType::F32, {n}, random_values(n, 41));
        View vel = ws.output(DType::F32, {n}, random_values(n, 42));
        ws.backend().sgd_momentum(p2, g, vel, 0.05f, 0.9f, 1e-4f);
        return std::vector<View>{p, m, v, p2, vel};
      },
      storage_tolerance(DType::F32), "adamw and sgd (100003)");
}

}  // namespace
}  // namespace tessera::test
