// Test helpers for running kernels on any backend: device buffers planted between guard bytes,
// host <-> dtype conversions, seeded random values, and dtype-aware comparisons.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "base/dtype.h"
#include "base/random.h"
#include "base/shape.h"
#include "common/backend_test_name.h"

namespace tessera::test {

inline constexpr DType kFloatDTypes[] = {DType::F32, DType::BF16, DType::F16, DType::F8E4M3,
                                         DType::F8E5M2};

// Seeded values uniform in [low, high).
inline std::vector<float> random_values(size_t n, uint64_t seed, float low = -1.0f,
                                        float high = 1.0f) {
  std::vector<float> values(n);
  for (size_t i = 0; i < n; ++i) values[i] = low + (high - low) * random_uniform(seed, i);
  return values;
}

// Seeded integers uniform in [low, high), held as floats (exact below 2^24).
inline std::vector<float> random_ints(size_t n, uint64_t seed, int64_t low, int64_t high) {
  std::vector<float> values(n);
  for (size_t i = 0; i < n; ++i)
    values[i] = static_cast<float>(
        low + static_cast<int64_t>(random_bits(seed, i) % static_cast<uint64_t>(high - low)));
  return values;
}

// Host floats stored as `dtype` bytes, and back.
inline std::vector<uint8_t> encode(const std::vector<float>& values, DType dtype) {
  std::vector<uint8_t> bytes(values.size() * dtype_size(dtype));
  convert_elements(values.data(), DType::F32, bytes.data(), dtype, values.size());
  return bytes;
}
inline std::vector<float> decode(const std::vector<uint8_t>& bytes, DType dtype) {
  std::vector<float> values(bytes.size() / dtype_size(dtype));
  convert_elements(bytes.data(), dtype, values.data(), DType::F32, values.size());
  return values;
}
// The values as `dtype` holds them.
inline std::vector<float> rounded(const std::vector<float>& values, DType dtype) {
  return decode(encode(values, dtype), dtype);
}

// |actual - expected| <= abs + rel * |expected| passes; NaNs and infinities must match exactly.
struct Tolerance {
  double abs = 0.0, rel = 0.0;
};

// The tolerance of a result stored in `dtype` after f32 computation that may differ between
// backends in the last bits: about one unit in the last place of the storage format.
inline Tolerance storage_tolerance(DType dtype) {
  switch (dtype) {
    case DType::F32:
      return {1e-5, 1e-5};
    case DType::BF16:
      return {1e-2, 1e-2};  // 8 significant bits: one ulp <= 2^-7
    case DType::F16:
      return {1e-3, 1e-3};  // 11 significant bits: one ulp <= 2^-10
    case DType::F8E4M3:
      return {2e-2, 0.13};  // 4 significant bits: one ulp <= 2^-3
    case DType::F8E5M2:
      return {2e-2, 0.26};  // 3 significant bits: one ulp <= 2^-2
    default:
      return {0.0, 0.0};  // integers are exact
  }
}

// Adds an absolute allowance (f32 accumulation over many terms) to a storage tolerance.
inline Tolerance plus_abs(Tolerance t, double abs) { return {t.abs + abs, t.rel}; }

inline bool close(double actual, double expected, Tolerance tol) {
  if (std::isnan(expected) || std::isnan(actual)) return std::isnan(expected) && std::isnan(actual);
  if (std::isinf(expected) || std::isinf(actual)) return actual == expected;
  return std::fabs(actual - expected) <= tol.abs + tol.rel * std::fabs(expected);
}

// Expects every element close; reports the count and the first few mismatches.
template <typename A, typename B>
void expect_close(const std::vector<A>& actual, const std::vector<B>& expected, Tolerance tol,
                  const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  size_t bad = 0;
  std::string examples;
  for (size_t i = 0; i < actual.size(); ++i) {
    if (close(actual[i], expected[i], tol)) continue;
    if (++bad <= 5)
      examples += "\n  [" + std::to_string(i) + "] got " + std::to_string(actual[i]) + ", want " +
                  std::to_string(expected[i]);
  }
  EXPECT_EQ(bad, 0u) << what << ": " << bad << " of " << actual.size()
                     << " elements differ beyond abs " << tol.abs << " + rel " << tol.rel
                     << examples;
}

// Device buffers of one backend. Each buffer sits between two guard regions filled with a
// pattern that must survive every kernel; inputs must also keep their bytes.
class Workspace {
 public:
  static constexpr size_t kGuardBytes = 64;  // keeps the body 64-byte aligned
  static constexpr uint8_t kGuardByte = 0xA5;

  explicit Workspace(Backend& backend) : backend_(backend) {}
  Backend& backend() { return backend_; }

  // A contiguous buffer holding `values` stored as dtype; the kernel must not change it.
  View input(DType dtype, const Shape& shape, const std::vector<float>& values) {
    return make(dtype, shape, encode(values, dtype), true);
  }
  // A contiguous output holding `initial` (for kernels that accumulate), or, when `initial` is
  // empty, poison bytes (0xFF: NaN for every float dtype) that the kernel must overwrite.
  View output(DType dtype, const Shape& shape, const std::vector<float>& initial = {}) {
    if (!initial.empty()) return make(dtype, shape, encode(initial, dtype), false);
    std::vector<uint8_t> poison(static_cast<size_t>(numel(shape)) * dtype_size(dtype), 0xFF);
    return make(dtype, shape, poison, false);
  }
  // A view with no memory (an optional operand left out).
  static View absent(DType dtype, const Shape& shape) {
    return View{nullptr, dtype, shape, contiguous_strides(shape)};
  }

  // The buffer's contents (the whole buffer of a view made here) as f32.
  std::vector<float> read(const View& view) {
    std::vector<uint8_t> bytes(static_cast<size_t>(view.numel()) * dtype_size(view.dtype));
    backend_.copy_to_host(bytes.data(), view.data, bytes.size());
    return decode(bytes, view.dtype);
  }

  // Guards intact, inputs unchanged.
  void expect_intact(const std::string& what) {
    for (size_t i = 0; i < blocks_.size(); ++i) {
      const Block& block = blocks_[i];
      std::vector<uint8_t> now(block.expected.size());
      backend_.copy_to_host(now.data(), block.memory.get(), now.size());
      size_t body_end = kGuardBytes + block.body_bytes;
      for (size_t b = 0; b < now.size(); ++b) {
        bool in_body = b >= kGuardBytes && b < body_end;
        if (in_body && !block.is_input) continue;
        if (now[b] != block.expected[b]) {
          ADD_FAILURE() << what << " on " << backend_.name() << ": buffer " << i << " ("
                        << (in_body           ? "input changed"
                            : b < kGuardBytes ? "guard before"
                                              : "guard after")
                        << ") byte " << b << " is " << int(now[b]) << ", was "
                        << int(block.expected[b]);
          break;
        }
      }
    }
  }

 private:
  struct Block {
    std::shared_ptr<void> memory;
    size_t body_bytes;
    bool is_input;
    std::vector<uint8_t> expected;  // guard + body + guard as written
  };

  View make(DType dtype, const Shape& shape, const std::vector<uint8_t>& body, bool is_input) {
    std::vector<uint8_t> bytes(kGuardBytes, kGuardByte);
    bytes.insert(bytes.end(), body.begin(), body.end());
    bytes.insert(bytes.end(), kGuardBytes, kGuardByte);
    std::shared_ptr<void> memory = backend_.allocate(bytes.size());
    backend_.copy_from_host(memory.get(), bytes.data(), bytes.size());
    blocks_.push_back({memory, body.size(), is_input, bytes});
    void* data = static_cast<char*>(memory.get()) + kGuardBytes;
    return View{data, dtype, shape, contiguous_strides(shape)};
  }

  Backend& backend_;
  std::vector<Block> blocks_;
};

// A kernel case: makes its (seeded, hence identical) inputs in the workspace, runs the kernel
// on the workspace's backend, and returns the outputs to compare.
using KernelCase = std::function<std::vector<View>(Workspace&)>;

// Runs `run` on `tested` and on cpu-ref and expects every output close, guards intact and
// inputs unchanged on both.
inline void expect_matches_reference(Backend& tested, const KernelCase& run, Tolerance tol,
                                     const std::string& what) {
  Workspace reference_ws(backend("cpu-ref")), tested_ws(tested);
  std::vector<View> expected = run(reference_ws);
  std::vector<View> actual = run(tested_ws);
  ASSERT_EQ(expected.size(), actual.size());
  for (size_t i = 0; i < expected.size(); ++i)
    expect_close(tested_ws.read(actual[i]), reference_ws.read(expected[i]),
                 is_floating(expected[i].dtype) ? tol : Tolerance{},
                 what + ", output " + std::to_string(i));
  reference_ws.expect_intact(what);
  tested_ws.expect_intact(what);
}

using testing::backend_test_name;

inline std::string shape_label(const Shape& shape, DType dtype) {
  return shape_str(shape) + " " + std::string(dtype_name(dtype));
}

}  // namespace tessera::test
