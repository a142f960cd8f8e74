// The op harness fixture: every Tensor-level test runs once per registered backend, in strict
// dispatch mode (a kernel the backend lacks is an error, not a silent CPU fallback). Also seeded
// host inputs and element-by-element comparisons with a written tolerance.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/error.h"
#include "base/random.h"
#include "common/backend_test_name.h"
#include "tensor/dispatch.h"
#include "tensor/ops.h"
#include "tensor/tensor.h"

namespace tessera::test {

// Backends registered only by a test (to exercise dispatch) start with this prefix and are not
// part of the per-backend runs.
inline constexpr const char* kTestBackendPrefix = "test-";
// Of the chip backends, one stands for all: chip:t1 (the kernel harness in tests/backends runs
// every kernel on every preset); the ops run on it in strict mode like on the CPU backends.
inline constexpr const char* kChipBackendPrefix = "chip:";
inline constexpr const char* kHarnessChip = "chip:t1";

inline std::vector<std::string> harness_backends() {
  std::vector<std::string> names;
  for (const std::string& name : computing_backend_names())
    if (name.rfind(kTestBackendPrefix, 0) != 0 &&
        (name.rfind(kChipBackendPrefix, 0) != 0 || name == kHarnessChip))
      names.push_back(name);
  return names;
}

// Seeded host values: normal(0, std), or uniform in [low, high).
inline std::vector<float> normal_values(size_t n, uint64_t seed, float std = 1.0f) {
  std::vector<float> values(n);
  for (size_t i = 0; i < n; ++i) values[i] = std * random_normal(seed, i);
  return values;
}
inline std::vector<float> uniform_values(size_t n, uint64_t seed, float low, float high) {
  std::vector<float> values(n);
  for (size_t i = 0; i < n; ++i) values[i] = low + (high - low) * random_uniform(seed, i);
  return values;
}
// Distinct values spaced by `step` in a seeded order: inputs for max and max-pool whose
// arg-max cannot change under a finite-difference step smaller than step / 2.
inline std::vector<float> distinct_values(size_t n, uint64_t seed, float step) {
  std::vector<float> values(n);
  for (size_t i = 0; i < n; ++i) values[i] = step * (static_cast<float>(i) - n / 2.0f);
  for (size_t i = n; i > 1; --i)  // Fisher-Yates with the counter-based generator
    std::swap(values[i - 1], values[random_bits(seed, i) % i]);
  return values;
}
// Inputs of ops on a chip's matrix engine. The engine multiplies bf16 (8 significant bits) with
// f32 accumulation, so f32 inputs are rounded on the way in: a 1e-5 forward check fails, and
// finite differences with eps = 1e-2 measure the rounding as much as the step. A multiple of
// 2^-5 within (-4, 4) is k 2^-5 with |k| < 2^7: bf16 holds it exactly, and so it holds x +- 2^-5
// (|k| <= 2^7), the finite-difference step on this grid. A product of two is a multiple of 2^-10
// below 2^4, and a sum of up to 2^10 of them stays below 2^24 units of 2^-10: exact in f32 in
// any order. So a matmul or conv of such values (the gradient projection too) is exact on every
// backend, and forward checks and central differences keep the CPU's tolerances.
inline constexpr float kGridStep = 1.0f / 32;  // 2^-5
inline constexpr float kGridLimit = 4.0f;
// Seeded normal(0, std) values rounded to the grid and kept within (-4, 4).
inline std::vector<float> bf16_grid_values(size_t n, uint64_t seed, float std = 1.0f) {
  std::vector<float> values = normal_values(n, seed, std);
  const float top = kGridLimit - kGridStep;
  for (float& v : values) v = std::clamp(std::nearbyint(v / kGridStep) * kGridStep, -top, top);
  return values;
}
inline bool is_chip_device(const std::string& device) { return device.rfind(kChipBackendPrefix, 0) == 0; }

// Values with |x| >= margin (for relu's kink at 0).
inline std::vector<float> away_from_zero(size_t n, uint64_t seed, float margin) {
  std::vector<float> values = normal_values(n, seed);
  for (float& v : values) v = v < 0 ? v - margin : v + margin;
  return values;
}

// |actual - expected| <= abs + rel * |expected|, element by element.
struct Tolerance {
  double abs = 0.0, rel = 0.0;
};

// One failure per call, listing the first few elements out of tolerance.
inline void expect_close(const std::vector<float>& actual, const std::vector<float>& expected,
                         Tolerance tol, const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  int bad = 0;
  std::string listed;
  for (size_t i = 0; i < actual.size(); ++i) {
    double bound = tol.abs + tol.rel * std::fabs(expected[i]);
    if (std::fabs(double(actual[i]) - double(expected[i])) <= bound) continue;
    if (bad++ < 5)
      listed += "\n  element " + std::to_string(i) + " is " + std::to_string(actual[i]) +
                ", expected " + std::to_string(expected[i]) + " (tolerance " +
                std::to_string(bound) + ")";
  }
  if (bad) ADD_FAILURE() << what << ": " << bad << " of " << actual.size()
                         << " elements out of tolerance" << listed;
}

// Runs `body` and checks that it throws a tessera::Error whose message contains `needle`.
#define EXPECT_ERROR_CONTAINS(body, needle)                                               \
  do {                                                                                     \
    try {                                                                                  \
      body;                                                                                \
      ADD_FAILURE() << "expected a tessera::Error containing: " << (needle);               \
    } catch (const ::tessera::Error& error) {                                              \
      EXPECT_NE(std::string(error.what()).find(needle), std::string::npos)                 \
          << "message: " << error.what();                                                  \
    }                                                                                      \
  } while (0)

// The fixture: GetParam() is the device; strict dispatch is on for the test's duration.
class OpTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    previous_strict_ = strict_dispatch();
    set_strict_dispatch(true);
  }
  void TearDown() override { set_strict_dispatch(previous_strict_); }

  const std::string& device() const { return GetParam(); }
  Tensor tensor(const std::vector<float>& values, const Shape& shape) const {
    return Tensor::from_floats(values, shape, DType::F32, device());
  }
  Tensor ids(const std::vector<int64_t>& values, const Shape& shape,
             DType dtype = DType::I64) const {
    return Tensor::from_ints(values, shape, dtype, device());
  }
  Tensor randn(const Shape& shape, uint64_t seed, float std = 1.0f) const {
    return tensor(normal_values(numel(shape), seed, std), shape);
  }
  // Inputs of an op on the matrix engine: on a chip, on the bf16 grid above (bf16_grid_values;
  // gradcheck.h's matrix_gradcheck steps along it); elsewhere normal values.
  bool on_chip() const { return is_chip_device(device()); }
  std::vector<float> matrix_values(size_t n, uint64_t seed, float std = 1.0f) const {
    return on_chip() ? bf16_grid_values(n, seed, std) : normal_values(n, seed, std);
  }

 private:
  bool previous_strict_ = false;
};

}  // namespace tessera::test

// Instantiates a suite derived from OpTest once per registered backend.
#define INSTANTIATE_FOR_BACKENDS(Suite)                                                 \
  INSTANTIATE_TEST_SUITE_P(Backends, Suite,                                             \
                           ::testing::ValuesIn(::tessera::test::harness_backends()),    \
                           ::tessera::testing::backend_test_name)
