// Kernel harness, elementwise part: copy, fill, binary, unary (and backward), affine, reductions,
// scatter, dropout masks and sum of squares on every registered backend, against cpu-ref.
// Tolerances: storage_tolerance(dtype) (about one ulp of the output format; f32 1e-5 abs +
// 1e-5 rel), plus an absolute allowance where a kernel sums many terms.
#include "backends/backend.h"
#include "kernel_harness.h"

namespace tessera::test {
namespace {

class ElementwiseKernels : public ::testing::TestWithParam<std::string> {
 protected:
  Backend& tested() { return backend(GetParam()); }
};

const std::vector<int64_t> kSizes = {1, 7, 33, 65, 1000};

std::vector<float> values_for(DType dtype, size_t n, uint64_t seed) {
  return is_floating(dtype) ? random_values(n, seed, -4.0f, 4.0f) : random_ints(n, seed, -100, 100);
}

TEST_P(ElementwiseKernels, CopyConvertsBetweenEveryPairOfDTypes) {
  for (DType from : kAllDTypes)
    for (DType to : kAllDTypes) {
      if (!tested().supports(Kernel::Copy, from) || !tested().supports(Kernel::Copy, to)) continue;
      std::string what =
          "copy " + std::string(dtype_name(from)) + " -> " + std::string(dtype_name(to));
      expect_matches_reference(
          tested(),
          [&](Workspace& ws) {
            View src = ws.input(from, {33}, values_for(from, 33, 1));
            View dst = ws.output(to, {33});
            ws.backend().copy(src, dst);
            return std::vector<View>{dst};
          },
          storage_tolerance(to), what);
    }
}

TEST_P(ElementwiseKernels, CopyHandlesStridesOnBothSides) {
  for (DType from : {DType::F32, DType::BF16, DType::I64})
    for (DType to : {DType::F32, DType::F16, DType::F8E4M3, DType::I32}) {
      if (!tested().supports(Kernel::Copy, from) || !tested().supports(Kernel::Copy, to)) continue;
      std::string what =
          "strided copy " + std::string(dtype_name(from)) + " -> " + std::string(dtype_name(to));
      expect_matches_reference(
          tested(),
          [&](Workspace& ws) {
            // src: a transposed (7, 5) buffer read as (5, 7); dst: the first 7 elements of every
            // other row of a (10, 8) buffer. The elements dst skips must keep their values.
            View src = ws.input(from, {7, 5}, values_for(from, 35, 2));
            src.shape = {5, 7};
            src.strides = {1, 5};
            View dst_buffer = ws.output(to, {10, 8}, values_for(to, 80, 3));
            View dst = dst_buffer;
            dst.shape = {5, 7};
            dst.strides = {16, 1};
            ws.backend().copy(src, dst);
            // A broadcast source (stride 0) into a reversed-order destination window.
            View row = ws.input(from, {6}, values_for(from, 6, 4));
            row.shape = {4, 6};
            row.strides = {0, 1};
            View dst2_buffer = ws.output(to, {4, 6}, values_for(to, 24, 5));
            View dst2 = dst2_buffer;
            dst2.data = static_cast<char*>(dst2.data) + 23 * dtype_size(to);
            dst2.strides = {-6, -1};
            ws.backend().copy(row, dst2);
            return std::vector<View>{dst_buffer, dst2_buffer};
          },
          storage_tolerance(to), what);
    }
}

TEST_P(ElementwiseKernels, FillWritesEveryElementInEveryDType) {
  for (DType dtype : kAllDTypes) {
    if (!tested().supports(Kernel::Fill, dtype)) continue;
    for (double value : {0.0, 2.5, -3.75, 1e-3}) {
      expect_matches_reference(
          tested(),
          [&](Workspace& ws) {
            View dst = ws.output(dtype, {65});
            ws.backend().fill(dst, value);
            View strided_buffer = ws.output(dtype, {6, 4}, values_for(dtype, 24, 6));
            View strided = strided_buffer;
            strided.shape = {3, 4};
            strided.strides = {8, 1};
            ws.backend().fill(strided, value);
            return std::vector<View>{dst, strided_buffer};
          },
          storage_tolerance(dtype), "fill " + std::string(dtype_name(dtype)));
    }
  }
}

const char* binary_name(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add:
      return "add";
    case BinaryOp::Sub:
      return "sub";
    case BinaryOp::Mul:
      return "mul";
    case BinaryOp::Div:
      return "div";
  }
  return "?";
}

TEST_P(ElementwiseKernels, BinaryBroadcastsZeroStrides) {
  struct ShapePair {
    Shape a, b;
  };
  const std::vector<ShapePair> pairs = {{{33}, {33}}, {{7, 1}, {1, 5}}, {{4, 7, 3}, {7, 1}},
                                        {{1}, {65}},  {{}, {2, 3}},     {{1000}, {1000}}};
  for (BinaryOp op : {BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Div})
    for (DType dtype : kFloatDTypes) {
      if (!tested().supports(Kernel::Binary, dtype)) continue;
      for (const ShapePair& pair : pairs) {
        Shape out_shape = broadcast_shapes(pair.a, pair.b, "test");
        // Divisors stay away from zero: |b| in [0.5, 2].
        std::vector<float> b_values = random_values(numel(pair.b), 8, 0.5f, 2.0f);
        for (size_t i = 0; i < b_values.size(); i += 2) b_values[i] = -b_values[i];
        std::string what = std::string(binary_name(op)) + " " + shape_str(pair.a) + " " +
                           shape_str(pair.b) + " " + std::string(dtype_name(dtype));
        expect_matches_reference(
            tested(),
            [&](Workspace& ws) {
              View a = ws.input(dtype, pair.a, random_values(numel(pair.a), 7, -3.0f, 3.0f));
              View b = ws.input(dtype, pair.b, b_values);
              a.strides = broadcast_strides(pair.a, a.strides, out_shape);
              b.strides = broadcast_strides(pair.b, b.strides, out_shape);
              a.shape = b.shape = out_shape;
              View out = ws.output(dtype, out_shape);
              ws.backend().binary(op, a, b, out);
              return std::vector<View>{out};
            },
            storage_tolerance(dtype), what);
      }
    }
}

struct UnaryCase {
  UnaryOp op;
  const char* name;
  float low, high;  // input range
};
const UnaryCase kUnaryCases[] = {{UnaryOp::Relu, "relu", -4, 4}, {UnaryOp::Gelu, "gelu", -4, 4},
                                 {UnaryOp::Exp, "exp", -4, 4},   {UnaryOp::Log, "log", 0.05f, 4},
                                 {UnaryOp::Neg, "neg", -4, 4},   {UnaryOp::Sqrt, "sqrt", 0, 4}};

TEST_P(ElementwiseKernels, UnaryOps) {
  for (const UnaryCase& c : kUnaryCases)
    for (DType dtype : kFloatDTypes) {
      if (!tested().supports(Kernel::Unary, dtype)) continue;
      for (int64_t n : kSizes) {
        expect_matches_reference(
            tested(),
            [&](Workspace& ws) {
              View x = ws.input(dtype, {n}, random_values(n, 9, c.low, c.high));
              View out = ws.output(dtype, {n});
              ws.backend().unary(c.op, x, out);
              return std::vector<View>{out};
            },
            storage_tolerance(dtype), std::string(c.name) + " " + shape_label({n}, dtype));
      }
    }
}

TEST_P(ElementwiseKernels, UnaryBackwardOfReluAndGelu) {
  for (const UnaryCase& c : kUnaryCases) {
    if (c.op != UnaryOp::Relu && c.op != UnaryOp::Gelu) continue;
    for (DType dtype : kFloatDTypes) {
      if (!tested().supports(Kernel::UnaryBackward, dtype)) continue;
      for (int64_t n : kSizes) {
        expect_matches_reference(
            tested(),
            [&](Workspace& ws) {
              View x = ws.input(dtype, {n}, random_values(n, 10, c.low, c.high));
              View grad_out = ws.input(dtype, {n}, random_values(n, 11));
              View grad_in = ws.output(dtype, {n});
              ws.backend().unary_backward(c.op, x, grad_out, grad_in);
              return std::vector<View>{grad_in};
            },
            storage_tolerance(dtype), std::string(c.name) + " backward " + shape_label({n}, dtype));
      }
    }
  }
}

TEST_P(ElementwiseKernels, Affine) {
  for (DType dtype : kFloatDTypes) {
    if (!tested().supports(Kernel::Affine, dtype)) continue;
    for (int64_t n : kSizes) {
      expect_matches_reference(
          tested(),
          [&](Workspace& ws) {
            View x = ws.input(dtype, {n}, random_values(n, 12, -4.0f, 4.0f));
            View out = ws.output(dtype, {n});
            ws.backend().affine(x, out, 1.5f, -0.25f);
            return std::vector<View>{out};
          },
          storage_tolerance(dtype), "affine " + shape_label({n}, dtype));
    }
  }
}

struct ReduceDims {
  int64_t outer, n, inner;
};
const ReduceDims kReduceDims[] = {{1, 1, 1},  {3, 7, 5}, {2, 65, 1},
                                  {1, 33, 4}, {5, 1, 7}, {1, 1000, 1}};

TEST_P(ElementwiseKernels, ReduceSumAndMax) {
  for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Max})
    for (DType dtype : kFloatDTypes) {
      if (!tested().supports(Kernel::Reduce, dtype)) continue;
      for (ReduceDims d : kReduceDims) {
        // A sum of n terms of magnitude <= 1 may differ by about n f32 roundings.
        Tolerance tol = plus_abs(storage_tolerance(dtype), 1e-6 * d.n);
        expect_matches_reference(
            tested(),
            [&](Workspace& ws) {
              View x = ws.input(dtype, {d.outer, d.n, d.inner},
                                random_values(d.outer * d.n * d.inner, 13));
              View out = ws.output(dtype, {d.outer, d.inner});
              ws.backend().reduce(op, x, out, d.outer, d.n, d.inner);
              return std::vector<View>{out};
            },
            tol,
            std::string(op == ReduceOp::Sum ? "sum " : "max ") +
                shape_label({d.outer, d.n, d.inner}, dtype));
      }
    }
}

TEST_P(ElementwiseKernels, ReduceMaxReturnsTheFirstArgMax) {
  for (DType dtype : kFloatDTypes) {
    if (!tested().supports(Kernel::ReduceMax, dtype)) continue;
    for (ReduceDims d : kReduceDims) {
      expect_matches_reference(
          tested(),
          [&](Workspace& ws) {
            // Few distinct values, so that ties (first index wins) are common.
            View x = ws.input(dtype, {d.outer, d.n, d.inner},
                              random_ints(d.outer * d.n * d.inner, 14, -3, 4));
            View out = ws.output(dtype, {d.outer, d.inner});
            View indices = ws.output(DType::I64, {d.outer, d.inner});
            ws.backend().reduce_max(x, out, indices, d.outer, d.n, d.inner);
            return std::vector<View>{out, indices};
          },
          storage_tolerance(dtype), "reduce_max " + shape_label({d.outer, d.n, d.inner}, dtype));
    }
  }
}

TEST_P(ElementwiseKernels, ScatterAlong) {
  for (DType index_dtype : {DType::I64, DType::I32})
    for (DType dtype : kFloatDTypes) {
      if (!tested().supports(Kernel::ScatterAlong, dtype)) continue;
      for (ReduceDims d : kReduceDims) {
        expect_matches_reference(
            tested(),
            [&](Workspace& ws) {
              View values =
                  ws.input(dtype, {d.outer, d.inner}, random_values(d.outer * d.inner, 15));
              View indices = ws.input(index_dtype, {d.outer, d.inner},
                                      random_ints(d.outer * d.inner, 16, 0, d.n));
              View out = ws.output(dtype, {d.outer, d.n, d.inner});
              ws.backend().scatter_along(values, indices, out, d.outer, d.n, d.inner);
              return std::vector<View>{out};
            },
            storage_tolerance(dtype),
            "scatter_along " + shape_label({d.outer, d.n, d.inner}, dtype) + " indices " +
                std::string(dtype_name(index_dtype)));
      }
    }
}

TEST_P(ElementwiseKernels, DropoutMaskIsTheSameOnEveryBackend) {
  for (DType dtype : kFloatDTypes) {
    if (!tested().supports(Kernel::DropoutMask, dtype)) continue;
    for (float p : {0.0f, 0.25f, 0.5f})
      for (uint64_t counter : {uint64_t{0}, uint64_t{1000}})
        for (int64_t n : kSizes) {
          expect_matches_reference(
              tested(),
              [&](Workspace& ws) {
                View mask = ws.output(dtype, {n});
                ws.backend().dropout_mask(mask, p, 42, counter);
                return std::vector<View>{mask};
              },
              storage_tolerance(dtype),
              "dropout p=" + std::to_string(p) + " counter " + std::to_string(counter) + " " +
                  shape_label({n}, dtype));
        }
  }
}

TEST_P(ElementwiseKernels, SumSquaresAccumulatesInDouble) {
  for (DType dtype : kFloatDTypes) {
    if (!tested().supports(Kernel::SumSquares, dtype)) continue;
    for (int64_t n : {int64_t{1}, int64_t{33}, int64_t{100000}}) {
      std::vector<float> values = random_values(n, 17, -2.0f, 2.0f);
      Workspace reference_ws(backend("cpu-ref")), tested_ws(tested());
      double expected = reference_ws.backend().sum_squares(reference_ws.input(dtype, {n}, values));
      double actual = tested_ws.backend().sum_squares(tested_ws.input(dtype, {n}, values));
      // Both sum exact squares of the same stored values in double: only the order differs.
      EXPECT_NEAR(actual, expected, 1e-9 * expected) << shape_label({n}, dtype);
      reference_ws.expect_intact("sum_squares");
      tested_ws.expect_intact("sum_squares");
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllBackends, ElementwiseKernels, ::testing::ValuesIn(computing_backend_names()),
                         backend_test_name);

}  // namespace
}  // namespace tessera::test
