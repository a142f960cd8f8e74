// The chip's row-wise, reduction and optimizer kernels beyond the kernel harness: shapes that
// span many tiles and cores (3000 rows of 768), bf16 operands, scatter_along jobs split into
// column blocks, dropout masks drawn by vrandom, the compensated sum of squares against an
// exact sum, and the error of a row that cannot fit the scratchpad.
#include <cmath>

#include "backends/chip/chip_backend.h"
#include "common/error_text.h"
#include "kernel_harness.h"

namespace tessera::test {
namespace {

ChipBackend& chip(const std::string& preset = "t1") { return *chip_backend("chip:" + preset); }

const Shape kGptRows = {3000, 768};  // rows of a GPT-2 small activation: several tiles per core

TEST(ChipRowopsTest, ClaimsTheRowKernelsInF32AndBf16) {
  for (Kernel k : {Kernel::Softmax, Kernel::SoftmaxBackward, Kernel::LogSoftmax, Kernel::LogSoftmaxBackward,
                   Kernel::LayerNorm, Kernel::LayerNormBackward, Kernel::SgdMomentum, Kernel::SumSquares,
                   Kernel::ScatterAlong}) {
    EXPECT_TRUE(chip().supports(k, DType::F32)) << kernel_name(k);
    EXPECT_TRUE(chip().supports(k, DType::BF16)) << kernel_name(k);
    EXPECT_FALSE(chip().supports(k, DType::F16)) << kernel_name(k);
  }
}

TEST(ChipRowopsTest, SoftmaxFamilyOverManyTilesAndCores) {
  for (DType dtype : {DType::F32, DType::BF16}) {
    int64_t count = numel(kGptRows);
    std::vector<float> x = random_values(count, 1, -6.0f, 6.0f), dy = random_values(count, 2);
    for (bool log : {false, true}) {
      std::string what = std::string(log ? "log_softmax " : "softmax ") + shape_label(kGptRows, dtype);
      expect_matches_reference(
          chip(),
          [&](Workspace& ws) {
            View xv = ws.input(dtype, kGptRows, x), y = ws.output(dtype, kGptRows), dx = ws.output(dtype, kGptRows);
            View dyv = ws.input(dtype, kGptRows, dy);
            if (log) {
              ws.backend().log_softmax(xv, y);
              ws.backend().log_softmax_backward(y, dyv, dx);
            } else {
              ws.backend().softmax(xv, y);
              ws.backend().softmax_backward(y, dyv, dx);
            }
            return std::vector<View>{y, dx};
          },
          plus_abs(storage_tolerance(dtype), 1e-6 * kGptRows[1]), what);
    }
  }
}

TEST(ChipRowopsTest, Bf16ResultsAreTheF32ResultsRoundedOnce) {
  // The bf16 kernels widen their inputs and round their f32 results once, on the chip: their
  // outputs are the f32 kernels' outputs on the same (bf16) values, rounded to bf16, bit for bit.
  Shape shape = {200, 300};
  std::vector<float> x = rounded(random_values(numel(shape), 3, -4.0f, 4.0f), DType::BF16);
  std::vector<float> dy = rounded(random_values(numel(shape), 4), DType::BF16);
  auto run = [&](DType dtype) {
    Workspace ws(chip());
    View y = ws.output(dtype, shape), dx = ws.output(dtype, shape);
    ws.backend().log_softmax(ws.input(dtype, shape, x), y);
    ws.backend().log_softmax_backward(ws.input(dtype, shape, x), ws.input(dtype, shape, dy), dx);
    return std::vector<std::vector<float>>{ws.read(y), ws.read(dx)};
  };
  std::vector<std::vector<float>> narrow = run(DType::BF16), wide = run(DType::F32);
  for (size_t i = 0; i < narrow.size(); ++i) {
    EXPECT_NE(narrow[i], wide[i]) << "output " << i << " was not rounded";
    EXPECT_EQ(narrow[i], rounded(wide[i], DType::BF16)) << "output " << i;
  }
}

TEST(ChipRowopsTest, Bf16ElementwiseKernelsOverManyTiles) {
  // What a bf16-autocast step runs in bf16: a bias add (row broadcast), gelu and its backward,
  // and the bias gradient (column sums of 1500 rows, reduce_program reading bf16 tiles).
  Shape shape = {1500, 700};
  int64_t count = numel(shape);
  expect_matches_reference(
      chip(),
      [&](Workspace& ws) {
        View x = ws.input(DType::BF16, shape, random_values(count, 20, -3.0f, 3.0f));
        View bias = ws.input(DType::BF16, {700}, random_values(700, 21));
        bias.shape = shape, bias.strides = {0, 1};
        View sum = ws.output(DType::BF16, shape), act = ws.output(DType::BF16, shape);
        ws.backend().binary(BinaryOp::Add, x, bias, sum);
        ws.backend().unary(UnaryOp::Gelu, sum, act);
        View grad = ws.output(DType::BF16, shape), bias_grad = ws.output(DType::BF16, {700});
        ws.backend().unary_backward(UnaryOp::Gelu, sum, ws.input(DType::BF16, shape, random_values(count, 22)), grad);
        ws.backend().reduce(ReduceOp::Sum, grad, bias_grad, 1, 1500, 700);
        return std::vector<View>{sum, act, grad, bias_grad};
      },
      // One bf16 ulp: the column sums add 1500 terms in f32 in another order than cpu-ref.
      storage_tolerance(DType::BF16), "bf16 elementwise " + shape_label(shape, DType::BF16));
}

TEST(ChipRowopsTest, LayerNormAndItsGradientsOverManyRows) {
  for (DType dtype : {DType::F32, DType::BF16}) {
    int64_t rows = kGptRows[0], channels = kGptRows[1];
    std::vector<float> x = rounded(random_values(rows * channels, 4, -3.0f, 3.0f), dtype);
    std::vector<float> w = random_values(channels, 5, 0.5f, 1.5f), b = random_values(channels, 6);
    std::vector<float> dy = random_values(rows * channels, 7);
    // Gradients accumulate into these (as over the micro-batches of a step).
    std::vector<float> old_dw = random_values(channels, 8), old_db = random_values(channels, 9);
    expect_matches_reference(
        chip(),
        [&](Workspace& ws) {
          View xv = ws.input(dtype, kGptRows, x), wv = ws.input(dtype, {channels}, w);
          View y = ws.output(dtype, kGptRows);
          View mean = ws.output(DType::F32, {rows}), rstd = ws.output(DType::F32, {rows});
          ws.backend().layer_norm(xv, wv, ws.input(dtype, {channels}, b), y, mean, rstd, 1e-5f);
          View dx = ws.output(dtype, kGptRows);
          View dw = ws.output(dtype, {channels}, old_dw), db = ws.output(dtype, {channels}, old_db);
          ws.backend().layer_norm_backward(ws.input(dtype, kGptRows, dy), xv, wv, mean, rstd, dx, dw, db);
          return std::vector<View>{y, mean, rstd, dx, dw, db};
        },
        // The weight and bias gradients sum 3000 rows in f32.
        plus_abs(storage_tolerance(dtype), 1e-6 * rows), "layer_norm " + shape_label(kGptRows, dtype));
  }
}

TEST(ChipRowopsTest, SgdMomentumOverManyTiles) {
  for (DType dtype : {DType::F32, DType::BF16}) {
    int64_t n = 100003;
    expect_matches_reference(
        chip(),
        [&](Workspace& ws) {
          View param = ws.output(dtype, {n}, random_values(n, 10));
          View velocity = ws.output(dtype, {n}, random_values(n, 11, -0.5f, 0.5f));
          ws.backend().sgd_momentum(param, ws.input(dtype, {n}, random_values(n, 12)), velocity, 0.05f, 0.9f, 0.01f);
          return std::vector<View>{param, velocity};
        },
        storage_tolerance(dtype), "sgd_momentum " + shape_label({n}, dtype));
  }
}

TEST(ChipRowopsTest, ScatterAlongInPlaneAndColumnBlocks) {
  struct Dims {
    int64_t outer, n, inner;
  };
  // Whole planes several to a job; then planes of 6 MB, cut into column blocks.
  for (Dims d : {Dims{300, 7, 50}, Dims{2, 5000, 300}, Dims{1000, 3, 1}})
    for (DType dtype : {DType::F32, DType::BF16}) {
      std::vector<float> indices = random_ints(d.outer * d.inner, 13, 0, d.n);
      expect_matches_reference(
          chip(),
          [&](Workspace& ws) {
            View values = ws.input(dtype, {d.outer, d.inner}, random_values(d.outer * d.inner, 14));
            View out = ws.output(dtype, {d.outer, d.n, d.inner});
            ws.backend().scatter_along(values, ws.input(DType::I64, {d.outer, d.inner}, indices), out, d.outer, d.n,
                                       d.inner);
            return std::vector<View>{out};
          },
          storage_tolerance(dtype), "scatter_along " + shape_label({d.outer, d.n, d.inner}, dtype));
    }
}

TEST(ChipRowopsTest, DropoutMaskDrawsOnTheChipAsCpuRefDoes) {
  // Many tiles on every core, so that each tile's vrandom starts at its own counter; a counter
  // beyond 2^32.
  EXPECT_TRUE(chip().supports(Kernel::DropoutMask, DType::BF16));
  int64_t n = 300001;
  for (DType dtype : {DType::F32, DType::BF16})
    for (float p : {0.1f, 0.5f}) {
      expect_matches_reference(
          chip(),
          [&](Workspace& ws) {
            View mask = ws.output(dtype, {n});
            ws.backend().dropout_mask(mask, p, 1234, (uint64_t{1} << 40) + 7);
            return std::vector<View>{mask};
          },
          Tolerance{}, "dropout p=" + std::to_string(p) + " " + shape_label({n}, dtype));
    }
}

TEST(ChipRowopsTest, CrossEntropyOverGpt2sVocabularyFitsT1) {
  // Rows of 50257 logits: the logits and exp(x - max) (2 x 201 KB per buffer set) fit T1's
  // 1.5 MiB because the per-row max, log-sum-exp and loss take (rows x 1) tiles.
  const int64_t rows = 6, vocab = 50257;
  std::vector<float> logits = random_values(rows * vocab, 17, -5.0f, 5.0f);
  std::vector<float> targets = random_ints(rows, 18, 0, vocab), dlosses = random_values(rows, 19, 0.1f, 1.0f);
  expect_matches_reference(
      chip(),
      [&](Workspace& ws) {
        View x = ws.input(DType::F32, {rows, vocab}, logits), t = ws.input(DType::I64, {rows}, targets);
        View losses = ws.output(DType::F32, {rows}), lse = ws.output(DType::F32, {rows});
        View dlogits = ws.output(DType::F32, {rows, vocab}), y = ws.output(DType::F32, {rows, vocab});
        ws.backend().cross_entropy(x, t, losses, lse);
        ws.backend().cross_entropy_backward(x, t, lse, ws.input(DType::F32, {rows}, dlosses), dlogits);
        ws.backend().log_softmax(x, y);
        return std::vector<View>{losses, lse, dlogits, y};
      },
      plus_abs(storage_tolerance(DType::F32), 1e-7 * vocab), "cross_entropy 6 x 50257");
}

// sum(x^2) in long double (64 significant bits): exact to about n * 2^-64.
long double exact_sum_squares(const std::vector<float>& values) {
  long double sum = 0;
  for (float v : values) sum += static_cast<long double>(v) * v;
  return sum;
}

TEST(ChipRowopsTest, SumSquaresOfAMillionElementsIsCompensated) {
  // Magnitudes from 1e-4 to 1e2: a plain f32 sum would lose the small squares entirely.
  int64_t n = 1000000;
  std::vector<float> values = random_values(n, 15, -1.0f, 1.0f);
  for (int64_t i = 0; i < n; ++i) values[i] *= std::pow(10.0f, static_cast<float>(i % 7) - 4.0f);
  long double exact = exact_sum_squares(values);
  float f32_sum = 0;
  for (float v : values) f32_sum += v * v;
  for (const char* preset : {"t1", "h100"}) {
    Workspace ws(chip(preset));
    double got = ws.backend().sum_squares(ws.input(DType::F32, {n}, values));
    double relative = std::fabs(static_cast<double>((got - exact) / exact));
    EXPECT_LT(relative, 1e-12) << preset << ": got " << got << ", exact " << static_cast<double>(exact);
    EXPECT_GT(std::fabs(static_cast<double>((f32_sum - exact) / exact)), 100 * relative) << preset;
    ws.expect_intact("sum_squares");
  }
}

TEST(ChipRowopsTest, SumSquaresOfBf16AndShortInputs) {
  for (int64_t n : {int64_t{1}, int64_t{5}, int64_t{4097}, int64_t{300001}})
    for (DType dtype : {DType::F32, DType::BF16}) {
      std::vector<float> values = rounded(random_values(n, 16, -3.0f, 3.0f), dtype);
      Workspace ws(chip());
      double got = ws.backend().sum_squares(ws.input(dtype, {n}, values));
      long double exact = exact_sum_squares(values);
      EXPECT_NEAR(got, static_cast<double>(exact), 1e-12 * static_cast<double>(exact)) << shape_label({n}, dtype);
    }
}

TEST(ChipRowopsTest, ARowThatCannotFitTheScratchpadIsAnError) {
  // x (8 MB) and the row's max and sum (64 bytes) in each of the two buffer sets.
  Workspace ws(chip());
  View x = ws.input(DType::F32, {1, 2000000}, std::vector<float>(2000000, 0.5f));
  std::string text = testing::error_text([&] { chip().softmax(x, ws.output(DType::F32, {1, 2000000})); });
  EXPECT_EQ(text,
            "device 'chip:t1': softmax cannot run: one row of 2000000 f32 needs 16000128 bytes of scratchpad "
            "(double-buffered), the chip has 1572864");
  // GPT-2's vocabulary of 50257 does not fit the 228 KiB of an H20 SM.
  Workspace h20(chip("h20"));
  View logits = h20.input(DType::F32, {2, 50257}, std::vector<float>(2 * 50257, 0.0f));
  View targets = h20.input(DType::I64, {2}, {1.0f, 2.0f});
  text = testing::error_text([&] {
    chip("h20").cross_entropy(logits, targets, h20.output(DType::F32, {2}), h20.output(DType::F32, {2}));
  });
  EXPECT_NE(text.find("device 'chip:h20': cross_entropy cannot run: one row of 50257 f32 needs "), std::string::npos)
      << text;
  EXPECT_NE(text.find("the chip has 233472"), std::string::npos) << text;
  for (Kernel k : {Kernel::LogSoftmax, Kernel::LayerNorm})
    EXPECT_NE(testing::error_text([&] {
                View y = ws.output(DType::F32, {1, 2000000});
                View w = ws.input(DType::F32, {2000000}, std::vector<float>(2000000, 1.0f));
                View stats = ws.output(DType::F32, {1});
                if (k == Kernel::LogSoftmax)
                  chip().log_softmax(x, y);
                else
                  chip().layer_norm(x, w, w, y, stats, stats, 1e-5f);
              }).find(std::string("device 'chip:t1': ") + kernel_name(k) + " cannot run: one row of 2000000 f32"),
              std::string::npos);
}

}  // namespace
}  // namespace tessera::test
