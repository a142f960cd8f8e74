// Kernel harness, row-wise part: softmax, log-softmax, cross-entropy, layer norm, embedding and
// the optimiser steps on every registered backend, against cpu-ref.
// Tolerances: storage_tolerance(dtype) (about one ulp of the output format; f32 1e-5 abs +
// 1e-5 rel), plus 1e-6 abs per summed term where a kernel sums along a row or over rows.
#include <cmath>

#include "backends/backend.h"
#include "kernel_harness.h"

namespace tessera::test {
namespace {

class NnKernels : public ::testing::TestWithParam<std::string> {
 protected:
  Backend& tested() { return backend(GetParam()); }
};

const std::vector<Shape> kRowShapes = {{1, 1}, {3, 7}, {5, 33}, {2, 65}, {4, 1000}};

TEST_P(NnKernels, SoftmaxAndLogSoftmax) {
  for (bool log : {false, true})
    for (DType dtype : kFloatDTypes) {
      if (!tested().supports(log ? Kernel::LogSoftmax : Kernel::Softmax, dtype)) continue;
      for (const Shape& shape : kRowShapes) {
        expect_matches_reference(
            tested(),
            [&](Workspace& ws) {
              View x = ws.input(dtype, shape, random_values(numel(shape), 20, -4.0f, 4.0f));
              View y = ws.output(dtype, shape);
              if (log)
                ws.backend().log_softmax(x, y);
              else
                ws.backend().softmax(x, y);
              return std::vector<View>{y};
            },
            storage_tolerance(dtype),
            std::string(log ? "log_softmax " : "softmax ") + shape_label(shape, dtype));
      }
    }
}

TEST_P(NnKernels, SoftmaxAndLogSoftmaxBackward) {
  for (bool log : {false, true})
    for (DType dtype : kFloatDTypes) {
      Kernel kernel = log ? Kernel::LogSoftmaxBackward : Kernel::SoftmaxBackward;
      if (!tested().supports(kernel, dtype)) continue;
      for (const Shape& shape : kRowShapes) {
        Tolerance tol = plus_abs(storage_tolerance(dtype), 1e-6 * shape.back());
        expect_matches_reference(
            tested(),
            [&](Workspace& ws) {
              // y plays the forward output: probabilities, or log-probabilities.
              std::vector<float> y_values = log ? random_values(numel(shape), 21, -5.0f, 0.0f)
                                                : random_values(numel(shape), 21, 0.0f, 1.0f);
              View y = ws.input(dtype, shape, y_values);
              View dy = ws.input(dtype, shape, random_values(numel(shape), 22));
              View dx = ws.output(dtype, shape);
              if (log)
                ws.backend().log_softmax_backward(y, dy, dx);
              else
                ws.backend().softmax_backward(y, dy, dx);
              return std::vector<View>{dx};
            },
            tol,
            std::string(log ? "log_softmax" : "softmax") + " backward " +
                shape_label(shape, dtype));
      }
    }
}

// Targets in [0, V) with every third row ignored (-1).
std::vector<float> targets_for(int64_t rows, int64_t vocab) {
  std::vector<float> targets = random_ints(rows, 23, 0, vocab);
  for (int64_t r = 1; r < rows; r += 3) targets[r] = -1;
  return targets;
}

// Each row's log-sum-exp of the logits as `dtype` stores them, in double.
std::vector<float> host_lse(const std::vector<float>& logits, int64_t vocab, DType dtype) {
  std::vector<float> stored = rounded(logits, dtype), lse;
  for (size_t start = 0; start < stored.size(); start += vocab) {
    double max = stored[start], sum = 0.0;
    for (int64_t j = 0; j < vocab; ++j) max = std::max(max, double(stored[start + j]));
    for (int64_t j = 0; j < vocab; ++j) sum += std::exp(stored[start + j] - max);
    lse.push_back(static_cast<float>(max + std::log(sum)));
  }
  return lse;
}

TEST_P(NnKernels, CrossEntropy) {
  for (DType target_dtype : {DType::I64, DType::I32})
    for (DType dtype : kFloatDTypes) {
      if (!tested().supports(Kernel::CrossEntropy, dtype)) continue;
      for (const Shape& shape : kRowShapes) {
        int64_t rows = shape[0], vocab = shape[1];
        expect_matches_reference(
            tested(),
            [&](Workspace& ws) {
              View logits = ws.input(dtype, shape, random_values(numel(shape), 24, -4.0f, 4.0f));
              View targets = ws.input(target_dtype, {rows}, targets_for(rows, vocab));
              View losses = ws.output(dtype, {rows});
              View lse = ws.output(DType::F32, {rows});
              ws.backend().cross_entropy(logits, targets, losses, lse);
              return std::vector<View>{losses, lse};
            },
            storage_tolerance(dtype),
            "cross_entropy " + shape_label(shape, dtype) + " targets " +
                std::string(dtype_name(target_dtype)));
      }
    }
}

TEST_P(NnKernels, CrossEntropyBackward) {
  for (DType target_dtype : {DType::I64, DType::I32})
    for (DType dtype : kFloatDTypes) {
      if (!tested().supports(Kernel::CrossEntropyBackward, dtype)) continue;
      for (const Shape& shape : kRowShapes) {
        int64_t rows = shape[0], vocab = shape[1];
        std::vector<float> logit_values = random_values(numel(shape), 25, -4.0f, 4.0f);
        expect_matches_reference(
            tested(),
            [&](Workspace& ws) {
              View logits = ws.input(dtype, shape, logit_values);
              View targets = ws.input(target_dtype, {rows}, targets_for(rows, vocab));
              View lse = ws.input(DType::F32, {rows}, host_lse(logit_values, vocab, dtype));
              View dlosses = ws.input(dtype, {rows}, random_values(rows, 26, 0.1f, 2.0f));
              View dlogits = ws.output(dtype, shape);
              ws.backend().cross_entropy_backward(logits, targets, lse, dlosses, dlogits);
              return std::vector<View>{dlogits};
            },
            storage_tolerance(dtype),
            "cross_entropy backward " + shape_label(shape, dtype) + " targets " +
                std::string(dtype_name(target_dtype)));
      }
    }
}

TEST_P(NnKernels, LayerNorm) {
  for (DType dtype : kFloatDTypes) {
    if (!tested().supports(Kernel::LayerNorm, dtype)) continue;
    for (const Shape& shape : kRowShapes) {
      int64_t rows = shape[0], channels = shape[1];
      expect_matches_reference(
          tested(),
          [&](Workspace& ws) {
            View x = ws.input(dtype, shape, random_values(numel(shape), 27, -3.0f, 3.0f));
            View weight = ws.input(dtype, {channels}, random_values(channels, 28, 0.5f, 1.5f));
            View bias = ws.input(dtype, {channels}, random_values(channels, 29));
            View y = ws.output(dtype, shape);
            View mean = ws.output(DType::F32, {rows});
            View rstd = ws.output(DType::F32, {rows});
            ws.backend().layer_norm(x, weight, bias, y, mean, rstd, 1e-5f);
            return std::vector<View>{y, mean, rstd};
          },
          storage_tolerance(dtype), "layer_norm " + shape_label(shape, dtype));
    }
  }
}

TEST_P(NnKernels, LayerNormBackwardAccumulatesWeightAndBiasGradients) {
  for (DType dtype : kFloatDTypes) {
    if (!tested().supports(Kernel::LayerNormBackward, dtype)) continue;
    for (const Shape& shape : kRowShapes) {
      int64_t rows = shape[0], channels = shape[1];
      std::vector<float> x_values = rounded(random_values(numel(shape), 30, -3.0f, 3.0f), dtype);
      // The forward statistics of x, in double.
      std::vector<float> means, rstds;
      for (int64_t r = 0; r < rows; ++r) {
        double sum = 0.0, squares = 0.0;
        for (int64_t c = 0; c < channels; ++c) sum += x_values[r * channels + c];
        double mean = sum / channels;
        for (int64_t c = 0; c < channels; ++c)
          squares += (x_values[r * channels + c] - mean) * (x_values[r * channels + c] - mean);
        means.push_back(static_cast<float>(mean));
        rstds.push_back(static_cast<float>(1.0 / std::sqrt(squares / channels + 1e-5)));
      }
      Tolerance tol = plus_abs(storage_tolerance(dtype), 1e-6 * std::max(rows, channels));
      expect_matches_reference(
          tested(),
          [&](Workspace& ws) {
            View dy = ws.input(dtype, shape, random_values(numel(shape), 31));
            View x = ws.input(dtype, shape, x_values);
            View weight = ws.input(dtype, {channels}, random_values(channels, 32, 0.5f, 1.5f));
            View mean = ws.input(DType::F32, {rows}, means);
            View rstd = ws.input(DType::F32, {rows}, rstds);
            View dx = ws.output(dtype, shape);
            View dweight = ws.output(dtype, {channels}, random_values(channels, 33));
            View dbias = ws.output(dtype, {channels}, random_values(channels, 34));
            ws.backend().layer_norm_backward(dy, x, weight, mean, rstd, dx, dweight, dbias);
            return std::vector<View>{dx, dweight, dbias};
          },
          tol, "layer_norm backward " + shape_label(shape, dtype));
    }
  }
}

struct EmbeddingDims {
  int64_t count, vocab, channels;
};
const EmbeddingDims kEmbeddingDims[] = {{1, 1, 1}, {7, 5, 33}, {65, 11, 7}, {33, 3, 65}};

TEST_P(NnKernels, EmbeddingAndItsBackward) {
  for (DType id_dtype : {DType::I64, DType::I32})
    for (DType dtype : kFloatDTypes)
      for (EmbeddingDims d : kEmbeddingDims) {
        // Ids repeat (count > vocab), so the backward must add up repeated rows.
        std::vector<float> ids = random_ints(d.count, 35, 0, d.vocab);
        std::string label = shape_label({d.count, d.vocab, d.channels}, dtype) + " ids " +
                            std::string(dtype_name(id_dtype));
        if (tested().supports(Kernel::Embedding, dtype))
          expect_matches_reference(
              tested(),
              [&](Workspace& ws) {
                View id_view = ws.input(id_dtype, {d.count}, ids);
                View table =
                    ws.input(dtype, {d.vocab, d.channels}, random_values(d.vocab * d.channels, 36));
                View out = ws.output(dtype, {d.count, d.channels});
                ws.backend().embedding(id_view, table, out);
                return std::vector<View>{out};
              },
              storage_tolerance(dtype), "embedding " + label);
        if (tested().supports(Kernel::EmbeddingBackward, dtype))
          expect_matches_reference(
              tested(),
              [&](Workspace& ws) {
                View id_view = ws.input(id_dtype, {d.count}, ids);
                View dout =
                    ws.input(dtype, {d.count, d.channels}, random_values(d.count * d.channels, 37));
                View dtable = ws.output(dtype, {d.vocab, d.channels},
                                        random_values(d.vocab * d.channels, 38));
                ws.backend().embedding_backward(id_view, dout, dtable);
                return std::vector<View>{dtable};
              },
              plus_abs(storage_tolerance(dtype), 1e-6 * d.count), "embedding backward " + label);
      }
}

TEST_P(NnKernels, AdamWStep) {
  for (DType dtype : kFloatDTypes) {
    if (!tested().supports(Kernel::AdamW, dtype)) continue;
    for (int64_t step : {int64_t{1}, int64_t{7}})
      for (float weight_decay : {0.0f, 0.1f})
        for (int64_t n : {int64_t{1}, int64_t{33}, int64_t{1000}}) {
          AdamWArgs args{1e-2f, 0.9f, 0.999f, 1e-8f, weight_decay, step};
          expect_matches_reference(
              tested(),
              [&](Workspace& ws) {
                // param and grad in the dtype under test, optimiser state in f32.
                View param = ws.output(dtype, {n}, random_values(n, 39));
                View grad = ws.input(dtype, {n}, random_values(n, 40));
                View m = ws.output(DType::F32, {n}, random_values(n, 41, -0.1f, 0.1f));
                View v = ws.output(DType::F32, {n}, random_values(n, 42, 0.0f, 0.01f));
                ws.backend().adamw(param, grad, m, v, args);
                return std::vector<View>{param, m, v};
              },
              storage_tolerance(dtype),
              "adamw step " + std::to_string(step) + " wd " + std::to_string(weight_decay) + " " +
                  shape_label({n}, dtype));
        }
  }
}

TEST_P(NnKernels, SgdMomentumStep) {
  for (DType dtype : kFloatDTypes) {
    if (!tested().supports(Kernel::SgdMomentum, dtype)) continue;
    for (float weight_decay : {0.0f, 0.1f})
      for (int64_t n : {int64_t{1}, int64_t{33}, int64_t{1000}}) {
        expect_matches_reference(
            tested(),
            [&](Workspace& ws) {
              View param = ws.output(dtype, {n}, random_values(n, 43));
              View grad = ws.input(dtype, {n}, random_values(n, 44));
              View velocity = ws.output(dtype, {n}, random_values(n, 45, -0.5f, 0.5f));
              ws.backend().sgd_momentum(param, grad, velocity, 0.05f, 0.9f, weight_decay);
              return std::vector<View>{param, velocity};
            },
            storage_tolerance(dtype),
            "sgd_momentum wd " + std::to_string(weight_decay) + " " + shape_label({n}, dtype));
      }
  }
}

INSTANTIATE_TEST_SUITE_P(AllBackends, NnKernels, ::testing::ValuesIn(computing_backend_names()),
                         backend_test_name);

}  // namespace
}  // namespace tessera::test
