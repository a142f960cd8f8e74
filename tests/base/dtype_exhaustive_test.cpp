// Every one of the 2^32 f32 bit patterns converted to f16 and to bf16, checked against the
// processor's own conversion instructions as the bit-level reference: F16C's vcvtps2ph (IEEE
// binary16, round to nearest even, subnormals and NaN quieting) and AVX-512 BF16's
// vcvtneps2bf16 (round to nearest even; it treats subnormal inputs as zero, so those inputs,
// 2^24 of them, are left to the field-level tests in dtype_test.cpp).
#include <gtest/gtest.h>

#include <immintrin.h>

#include <cstring>

#include "base/dtype.h"

namespace tessera {
namespace {

constexpr uint64_t kPatterns = uint64_t{1} << 32;
constexpr int kLanes = 16;

TEST(DTypeExhaustive, EveryF32PatternToF16MatchesTheF16cInstruction) {
#if defined(__F16C__) && defined(__AVX512F__)
  uint64_t mismatches = 0, first_bad = 0;
  alignas(64) uint32_t bits[kLanes];
  alignas(64) uint16_t hardware[kLanes];
  for (uint64_t base = 0; base < kPatterns; base += kLanes) {
    for (int i = 0; i < kLanes; ++i) bits[i] = static_cast<uint32_t>(base + i);
    __m512 values = _mm512_castsi512_ps(_mm512_load_si512(bits));
    _mm256_store_si256(reinterpret_cast<__m256i*>(hardware), _mm512_cvtps_ph(values, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    for (int i = 0; i < kLanes; ++i) {
      float f;
      std::memcpy(&f, &bits[i], 4);
      if (f32_to_f16(f) != hardware[i] && mismatches++ == 0) first_bad = bits[i];
    }
  }
  EXPECT_EQ(mismatches, 0u) << "first mismatch at f32 bits 0x" << std::hex << first_bad;
#else
  GTEST_SKIP() << "this processor has no F16C/AVX-512 instructions to serve as the reference";
#endif
}

TEST(DTypeExhaustive, EveryNormalF32PatternToBf16MatchesTheAvx512Bf16Instruction) {
#if defined(__AVX512BF16__)
  uint64_t mismatches = 0, first_bad = 0, compared = 0;
  alignas(64) uint32_t bits[kLanes];
  alignas(64) uint16_t hardware[kLanes];
  for (uint64_t base = 0; base < kPatterns; base += kLanes) {
    for (int i = 0; i < kLanes; ++i) bits[i] = static_cast<uint32_t>(base + i);
    __m512 values = _mm512_castsi512_ps(_mm512_load_si512(bits));
    __m256bh converted = _mm512_cvtneps_pbh(values);
    std::memcpy(hardware, &converted, sizeof(hardware));
    for (int i = 0; i < kLanes; ++i) {
      bool subnormal = (bits[i] & 0x7F800000u) == 0 && (bits[i] & 0x007FFFFFu) != 0;
      if (subnormal) continue;
      ++compared;
      float f;
      std::memcpy(&f, &bits[i], 4);
      if (f32_to_bf16(f) != hardware[i] && mismatches++ == 0) first_bad = bits[i];
    }
  }
  EXPECT_EQ(compared, kPatterns - 2 * ((uint64_t{1} << 23) - 1));
  EXPECT_EQ(mismatches, 0u) << "first mismatch at f32 bits 0x" << std::hex << first_bad;
#else
  GTEST_SKIP() << "this processor has no AVX-512 BF16 instructions to serve as the reference";
#endif
}

}  // namespace
}  // namespace tessera
