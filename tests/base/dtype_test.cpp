// dtype conversions checked against an independent reference: narrow codes are decoded from
// their fields with std::ldexp, and f32 values are encoded by comparing them, in double
// arithmetic, with the two neighbouring representable values.
#include "base/dtype.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "base/error.h"
#include "base/random.h"

namespace tessera {
namespace {

// The reference: a narrow float format described only by its field widths.
struct RefFormat {
  DType dtype;
  int exp_bits;
  int man_bits;
  bool ieee;  // all-ones exponent holds inf/NaN; otherwise only S.1..1.1..1 is NaN (E4M3FN)

  int bias() const { return (1 << (exp_bits - 1)) - 1; }
  uint32_t code_count() const { return 1u << (1 + exp_bits + man_bits); }
  uint32_t sign_bit() const { return 1u << (exp_bits + man_bits); }
  uint32_t exp_field(uint32_t code) const { return (code >> man_bits) & ((1u << exp_bits) - 1); }
  uint32_t man_field(uint32_t code) const { return code & ((1u << man_bits) - 1); }

  bool is_nan(uint32_t code) const {
    uint32_t all = (1u << exp_bits) - 1, man_all = (1u << man_bits) - 1;
    if (ieee) return exp_field(code) == all && man_field(code) != 0;
    return exp_field(code) == all && man_field(code) == man_all;
  }

  double decode(uint32_t code) const {
    double sign = (code & sign_bit()) ? -1.0 : 1.0;
    uint32_t exp = exp_field(code), man = man_field(code);
    if (is_nan(code)) return std::copysign(std::numeric_limits<double>::quiet_NaN(), sign);
    if (ieee && exp == (1u << exp_bits) - 1) return sign * std::numeric_limits<double>::infinity();
    if (exp == 0) return sign * std::ldexp(static_cast<double>(man), 1 - bias() - man_bits);
    double significand = static_cast<double>((1u << man_bits) | man);
    return sign * std::ldexp(significand, static_cast<int>(exp) - bias() - man_bits);
  }
};

const RefFormat kBf16{DType::BF16, 8, 7, true};
const RefFormat kF16{DType::F16, 5, 10, true};
const RefFormat kE4M3{DType::F8E4M3, 4, 3, false};
const RefFormat kE5M2{DType::F8E5M2, 5, 2, true};
const RefFormat kFormats[] = {kBf16, kF16, kE4M3, kE5M2};

// Encodes by search: the non-negative finite values in code order, then one more value one step
// beyond the largest (where rounding overflows).
struct RefEncoder {
  RefFormat format;
  std::vector<double> values;  // values[code] for codes 0 .. max_finite, then the overflow step
  uint32_t max_finite = 0;

  explicit RefEncoder(const RefFormat& f) : format(f) {
    for (uint32_t code = 0; code < f.sign_bit(); ++code) {
      double v = f.decode(code);
      if (!std::isfinite(v)) break;
      values.push_back(v);
      max_finite = code;
    }
    double top = values.back();
    values.push_back(top + (top - values[values.size() - 2]));
  }

  uint32_t overflow_code() const {
    uint32_t all = (1u << format.exp_bits) - 1;
    return format.ieee ? all << format.man_bits : format.sign_bit() - 1;  // inf, or NaN
  }

  // For a non-NaN value.
  uint32_t encode(double value) const {
    uint32_t sign = std::signbit(value) ? format.sign_bit() : 0;
    double a = std::fabs(value);
    if (a >= values.back()) return sign | overflow_code();
    size_t lo = std::upper_bound(values.begin(), values.end(), a) - values.begin() - 1;
    double below = a - values[lo], above = values[lo + 1] - a;
    size_t pick = below < above ? lo : above < below ? lo + 1 : (lo % 2 == 0 ? lo : lo + 1);
    if (pick > max_finite) return sign | overflow_code();
    return sign | static_cast<uint32_t>(pick);
  }
};

uint32_t encode(DType dtype, float value) {
  switch (dtype) {
    case DType::BF16: return f32_to_bf16(value);
    case DType::F16: return f32_to_f16(value);
    case DType::F8E4M3: return f32_to_e4m3(value);
    case DType::F8E5M2: return f32_to_e5m2(value);
    default: ADD_FAILURE() << "not a narrow dtype"; return 0;
  }
}

float decode(DType dtype, uint32_t code) {
  switch (dtype) {
    case DType::BF16: return bf16_to_f32(static_cast<uint16_t>(code));
    case DType::F16: return f16_to_f32(static_cast<uint16_t>(code));
    case DType::F8E4M3: return e4m3_to_f32(static_cast<uint8_t>(code));
    case DType::F8E5M2: return e5m2_to_f32(static_cast<uint8_t>(code));
    default: ADD_FAILURE() << "not a narrow dtype"; return 0;
  }
}

uint32_t f32_bits(float v) { return std::bit_cast<uint32_t>(v); }

// Checks encode(x) against the reference, NaNs included; returns false on the first mismatch.
bool check_encode(const RefFormat& f, const RefEncoder& ref, float x) {
  uint32_t got = encode(f.dtype, x);
  if (std::isnan(x)) {
    bool ok = f.is_nan(got) && ((got & f.sign_bit()) != 0) == std::signbit(x);
    if (f.ieee) {
      // Quiet, with the top payload bits of the f32 NaN.
      uint32_t quiet = 1u << (f.man_bits - 1);
      uint32_t payload = (f32_bits(x) >> (23 - f.man_bits)) & ((1u << f.man_bits) - 1);
      ok = ok && f.man_field(got) == (payload | quiet);
    }
    EXPECT_TRUE(ok) << dtype_name(f.dtype) << " NaN 0x" << std::hex << f32_bits(x) << " -> 0x"
                    << got;
    return ok;
  }
  uint32_t want = ref.encode(static_cast<double>(x));
  EXPECT_EQ(got, want) << dtype_name(f.dtype) << " from f32 0x" << std::hex << f32_bits(x) << " ("
                       << x << ")";
  return got == want;
}

TEST(DType, SizesNamesAndParsing) {
  EXPECT_EQ(dtype_size(DType::F32), 4u);
  EXPECT_EQ(dtype_size(DType::BF16), 2u);
  EXPECT_EQ(dtype_size(DType::F16), 2u);
  EXPECT_EQ(dtype_size(DType::F8E4M3), 1u);
  EXPECT_EQ(dtype_size(DType::F8E5M2), 1u);
  EXPECT_EQ(dtype_size(DType::I32), 4u);
  EXPECT_EQ(dtype_size(DType::I64), 8u);
  for (DType dtype : kAllDTypes) EXPECT_EQ(parse_dtype(dtype_name(dtype)), dtype);
  EXPECT_EQ(dtype_name(DType::F8E4M3), "f8e4m3");
  EXPECT_TRUE(is_floating(DType::F8E5M2));
  EXPECT_FALSE(is_floating(DType::I64));
  try {
    parse_dtype("fp8");
    FAIL() << "parse_dtype accepted 'fp8'";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "unknown dtype 'fp8' (valid: f32, bf16, f16, f8e4m3, f8e5m2, i32, i64)");
  }
}

TEST(DType, ReferenceSanity) {
  // The reference itself, on values from the format definitions.
  EXPECT_EQ(kE4M3.decode(0x7E), 448.0);
  EXPECT_TRUE(std::isnan(kE4M3.decode(0x7F)));
  EXPECT_EQ(kE4M3.decode(0x78), 256.0);  // exponent all ones is still finite in E4M3FN
  EXPECT_EQ(kE4M3.decode(0x01), std::ldexp(1.0, -9));
  EXPECT_EQ(kE5M2.decode(0x7B), 57344.0);
  EXPECT_TRUE(std::isinf(kE5M2.decode(0x7C)));
  EXPECT_EQ(kF16.decode(0x7BFF), 65504.0);
  EXPECT_EQ(kF16.decode(0x0001), std::ldexp(1.0, -24));
  EXPECT_EQ(kBf16.decode(0x3F80), 1.0);
  EXPECT_EQ(kBf16.decode(0x0001), std::ldexp(1.0, -133));
  EXPECT_EQ(RefEncoder(kE4M3).values.back(), 480.0);
  EXPECT_EQ(RefEncoder(kF16).values.back(), 65536.0);
}

// Every code decodes to the reference value and re-encodes to itself (NaNs to their quiet form).
TEST(DType, EveryNarrowCodeDecodesAndRoundTrips) {
  for (const RefFormat& f : kFormats) {
    size_t failures = 0;
    for (uint32_t code = 0; code < f.code_count() && failures < 10; ++code) {
      float got = decode(f.dtype, code);
      double want = f.decode(code);
      bool negative = (code & f.sign_bit()) != 0;
      if (std::isnan(want)) {
        // A quiet f32 NaN carrying the code's sign and payload.
        uint32_t bits = f32_bits(got);
        bool ok = std::isnan(got) && std::signbit(got) == negative && (bits & 0x00400000u);
        uint32_t quiet_code = f.ieee ? code | (1u << (f.man_bits - 1)) : code;
        if (f.ieee)
          ok = ok &&
               ((bits >> (23 - f.man_bits)) & ((1u << f.man_bits) - 1)) == f.man_field(quiet_code);
        ok = ok && encode(f.dtype, got) == quiet_code;
        EXPECT_TRUE(ok) << dtype_name(f.dtype) << " NaN code 0x" << std::hex << code;
        failures += !ok;
        continue;
      }
      bool ok = static_cast<double>(got) == want && std::signbit(got) == negative &&
                encode(f.dtype, got) == code;
      EXPECT_TRUE(ok) << dtype_name(f.dtype) << " code 0x" << std::hex << code << " -> " << got
                      << " want " << want;
      failures += !ok;
    }
  }
}

// f32 -> narrow near every place where the result changes: every representable value, every
// midpoint between neighbours (ties), one f32 ulp either side of both, for both signs; then the
// specials, the f32 subnormals and random bit patterns.
TEST(DType, EncodeMatchesReferenceAtValuesMidpointsAndNeighbours) {
  for (const RefFormat& f : kFormats) {
    RefEncoder ref(f);
    std::vector<float> points;
    const float inf = std::numeric_limits<float>::infinity();
    for (size_t i = 0; i + 1 < ref.values.size(); ++i) {
      float value = static_cast<float>(ref.values[i]);
      double mid_exact = (ref.values[i] + ref.values[i + 1]) / 2;
      float mid = static_cast<float>(mid_exact);
      ASSERT_EQ(static_cast<double>(mid), mid_exact) << "midpoint not an f32";
      for (float p : {value, mid}) {
        points.push_back(p);
        points.push_back(std::nextafter(p, inf));
        points.push_back(std::nextafter(p, -inf));
      }
    }
    float over = static_cast<float>(ref.values.back());
    for (float p : {over, std::nextafter(over, 0.0f), std::nextafter(over, inf),
                    std::numeric_limits<float>::max(), inf,
                    std::numeric_limits<float>::denorm_min(), std::numeric_limits<float>::min(),
                    std::nextafter(std::numeric_limits<float>::min(), 0.0f), 0.0f})
      points.push_back(p);
    size_t failures = 0;
    for (float p : points) {
      if (failures >= 10) break;
      failures += !check_encode(f, ref, p);
      failures += !check_encode(f, ref, -p);
    }
    // NaNs: signalling and quiet, with payloads in the high and low bits, both signs.
    for (uint32_t bits : {0x7fc00000u, 0x7f800001u, 0x7fa00000u, 0x7fd55555u, 0x7fbfffffu,
                          0x7ff00000u, 0x7f880000u, 0xffc00000u, 0xff800001u, 0xffe00000u})
      check_encode(f, ref, std::bit_cast<float>(bits));
    // Random f32 bit patterns (all exponents, subnormals and NaNs included).
    for (uint64_t i = 0; i < (1u << 22) && failures < 10; ++i) {
      float x = std::bit_cast<float>(static_cast<uint32_t>(random_bits(1234, i)));
      failures += !check_encode(f, ref, x);
    }
  }
}

TEST(DType, KnownValuesFromTheFormatDefinitions) {
  // Ties to even at 1 + half an ulp, signed zero, overflow behaviour of each format.
  EXPECT_EQ(f32_to_bf16(1.0f + 0x1p-8f), 0x3F80);      // tie, 1.0 is even
  EXPECT_EQ(f32_to_bf16(1.0f + 3 * 0x1p-8f), 0x3F82);  // tie, rounds up to even
  EXPECT_EQ(f32_to_bf16(-0.0f), 0x8000);
  EXPECT_EQ(f32_to_bf16(std::numeric_limits<float>::max()), 0x7F80);  // rounds to inf
  EXPECT_EQ(f32_to_f16(65519.0f), 0x7BFF);
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7C00);  // the tie above 65504 overflows to inf
  EXPECT_EQ(f32_to_f16(0x1p-25f), 0x0000);  // half the smallest subnormal: tie to 0
  EXPECT_EQ(f32_to_f16(std::nextafter(0x1p-25f, 1.0f)), 0x0001);
  EXPECT_EQ(f32_to_e4m3(448.0f), 0x7E);
  EXPECT_EQ(f32_to_e4m3(464.0f), 0x7E);  // tie between 448 and 480: stays at even 448
  EXPECT_EQ(f32_to_e4m3(std::nextafter(464.0f, 1000.0f)), 0x7F);  // NaN, no saturation
  EXPECT_EQ(f32_to_e4m3(-std::numeric_limits<float>::infinity()), 0xFF);
  EXPECT_EQ(f32_to_e4m3(0x1p-10f), 0x00);  // half the smallest subnormal 2^-9: tie to 0
  EXPECT_EQ(f32_to_e5m2(57344.0f), 0x7B);
  EXPECT_EQ(f32_to_e5m2(61440.0f), 0x7C);  // tie above the max overflows to inf
  EXPECT_EQ(f32_to_e5m2(-std::numeric_limits<float>::infinity()), 0xFC);
  EXPECT_EQ(e4m3_to_f32(0x80), 0.0f);
  EXPECT_TRUE(std::signbit(e4m3_to_f32(0x80)));
}

TEST(DType, RoundToDtype) {
  EXPECT_EQ(round_to_dtype(1.0f + 0x1p-20f, DType::F32), 1.0f + 0x1p-20f);
  EXPECT_EQ(round_to_dtype(3.14159265f, DType::BF16), 3.140625f);
  EXPECT_EQ(round_to_dtype(3.14159265f, DType::F16), 3.140625f);
  EXPECT_EQ(round_to_dtype(3.14159265f, DType::F8E4M3), 3.25f);
  EXPECT_EQ(round_to_dtype(3.14159265f, DType::F8E5M2), 3.0f);
  EXPECT_EQ(round_to_dtype(1e6f, DType::F8E5M2), std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(round_to_dtype(1e6f, DType::F8E4M3)));
  EXPECT_EQ(round_to_dtype(-2.75f, DType::I32), -2.0f);
  EXPECT_EQ(round_to_dtype(1e20f, DType::I32), 2147483648.0f);  // saturates at INT32_MAX
}

// Writes `values` (f32 numbers or integers) as elements of `dtype`.
std::vector<char> make_buffer(const std::vector<double>& values, DType dtype) {
  std::vector<char> out(values.size() * dtype_size(dtype));
  for (size_t i = 0; i < values.size(); ++i) {
    char* p = out.data() + i * dtype_size(dtype);
    double v = values[i];
    if (dtype == DType::F32) {
      float f = static_cast<float>(v);
      std::memcpy(p, &f, 4);
    } else if (dtype == DType::I32) {
      int32_t x = static_cast<int32_t>(v);
      std::memcpy(p, &x, 4);
    } else if (dtype == DType::I64) {
      int64_t x = static_cast<int64_t>(v);
      std::memcpy(p, &x, 8);
    } else if (dtype_size(dtype) == 2) {
      uint16_t c = static_cast<uint16_t>(encode(dtype, static_cast<float>(v)));
      std::memcpy(p, &c, 2);
    } else {
      *reinterpret_cast<uint8_t*>(p) = static_cast<uint8_t>(encode(dtype, static_cast<float>(v)));
    }
  }
  return out;
}

// Element i of a buffer, as a double (exact for every dtype here).
double element(const std::vector<char>& buffer, DType dtype, size_t i) {
  const char* p = buffer.data() + i * dtype_size(dtype);
  switch (dtype) {
    case DType::F32: {
      float f;
      std::memcpy(&f, p, 4);
      return f;
    }
    case DType::I32: {
      int32_t x;
      std::memcpy(&x, p, 4);
      return x;
    }
    case DType::I64: {
      int64_t x;
      std::memcpy(&x, p, 8);
      return static_cast<double>(x);
    }
    case DType::BF16:
    case DType::F16: {
      uint16_t c;
      std::memcpy(&c, p, 2);
      return decode(dtype, c);
    }
    default: return decode(dtype, *reinterpret_cast<const uint8_t*>(p));
  }
}

const RefFormat* ref_format(DType dtype) {
  for (const RefFormat& f : kFormats)
    if (f.dtype == dtype) return &f;
  return nullptr;
}

// The expected result of converting the exact value v into dtype.
double expected_conversion(double v, DType dtype) {
  if (dtype == DType::F32) return static_cast<float>(v);  // v is exact in double, one rounding
  if (dtype == DType::I32 || dtype == DType::I64) {
    double limit = dtype == DType::I32 ? 0x1p31 : 0x1p63;
    if (std::isnan(v)) return 0;
    if (v >= limit) return dtype == DType::I32 ? limit - 1 : static_cast<double>(INT64_MAX);
    if (v < -limit) return -limit;
    return std::trunc(v) + 0.0;  // integers have no -0
  }
  const RefFormat& f = *ref_format(dtype);
  if (std::isnan(v)) return v;
  return f.decode(RefEncoder(f).encode(v));
}

TEST(DType, ConvertElementsAllPairs) {
  // Floats with ties, subnormals, overflow and specials; integers of every size.
  std::vector<double> floats = {0.0,
                                -0.0,
                                1.0,
                                -1.5,
                                2.5,
                                -3.75,
                                0.3,
                                100.7,
                                -448.0,
                                470.0,
                                65504.0,
                                65520.0,
                                1e-6,
                                1e-8,
                                3e-39,
                                1e30,
                                -1e30,
                                std::numeric_limits<double>::infinity(),
                                -std::numeric_limits<double>::infinity(),
                                std::numeric_limits<double>::quiet_NaN()};
  std::vector<double> ints = {0,
                              1,
                              -1,
                              7,
                              -300,
                              65519,
                              65520,
                              16777217,
                              -16777217,
                              16777216.0 + 65537,  // 2^24 + 2^16 + 1: needs one rounding to bf16
                              2147483647.0,
                              -2147483648.0};
  for (DType src : kAllDTypes) {
    const std::vector<double>& values = is_floating(src) ? floats : ints;
    std::vector<char> in = make_buffer(values, src);
    for (DType dst : kAllDTypes) {
      std::vector<char> out(values.size() * dtype_size(dst), 0x5A);
      convert_elements(in.data(), src, out.data(), dst, values.size());
      for (size_t i = 0; i < values.size(); ++i) {
        double exact = element(in, src, i);
        double want = expected_conversion(exact, dst);
        double got = element(out, dst, i);
        bool same = std::isnan(want) ? std::isnan(got) : got == want;
        same = same && std::signbit(got) == std::signbit(want);
        EXPECT_TRUE(same) << dtype_name(src) << " -> " << dtype_name(dst) << " of " << exact
                          << ": got " << got << " want " << want;
      }
    }
  }
}

TEST(DType, ConvertElementsIntegerCases) {
  std::vector<int64_t> wide = {int64_t{1} << 40, -(int64_t{1} << 33) - 5, INT64_MAX, INT64_MIN};
  std::vector<int32_t> narrow(wide.size());
  convert_elements(wide.data(), DType::I64, narrow.data(), DType::I32, wide.size());
  for (size_t i = 0; i < wide.size(); ++i)
    EXPECT_EQ(narrow[i], static_cast<int32_t>(wide[i]));  // keeps the low 32 bits
  std::vector<float> f(wide.size());
  convert_elements(wide.data(), DType::I64, f.data(), DType::F32, wide.size());
  for (size_t i = 0; i < wide.size(); ++i) EXPECT_EQ(f[i], static_cast<float>(wide[i]));
  // Beyond 2^53 through the round-to-odd path into bf16: 2^60 + 2^52 + 1 is just above the tie
  // between 2^60 and 2^60 + 2^53.
  int64_t above_tie = (int64_t{1} << 60) + (int64_t{1} << 52) + 1;
  uint16_t b = 0;
  convert_elements(&above_tie, DType::I64, &b, DType::BF16, 1);
  EXPECT_EQ(bf16_to_f32(b), 0x1p60f + 0x1p53f);
  float trunc_in[] = {2.9f, -2.9f, 1e10f, -1e10f, std::numeric_limits<float>::quiet_NaN()};
  int32_t trunc_out[5];
  convert_elements(trunc_in, DType::F32, trunc_out, DType::I32, 5);
  EXPECT_EQ(trunc_out[0], 2);
  EXPECT_EQ(trunc_out[1], -2);
  EXPECT_EQ(trunc_out[2], INT32_MAX);
  EXPECT_EQ(trunc_out[3], INT32_MIN);
  EXPECT_EQ(trunc_out[4], 0);
}

// The array paths (vectorised loops and blocked conversions) agree with the scalar functions,
// on lengths that are not multiples of any vector or block width.
TEST(DType, ArrayConversionsMatchScalarFunctions) {
  const size_t n = 5000 + 3;
  std::vector<float> src(n);
  for (size_t i = 0; i < n; ++i)
    src[i] = std::bit_cast<float>(static_cast<uint32_t>(random_bits(7, i)));
  for (const RefFormat& f : kFormats) {
    std::vector<uint8_t> narrow(n * dtype_size(f.dtype) + 1, 0xEE);
    convert_elements(src.data(), DType::F32, narrow.data(), f.dtype, n);
    EXPECT_EQ(narrow.back(), 0xEE) << "wrote past the end";
    std::vector<float> back(n + 1, -7.0f);
    convert_elements(narrow.data(), f.dtype, back.data(), DType::F32, n);
    EXPECT_EQ(back.back(), -7.0f) << "wrote past the end";
    size_t mismatches = 0;
    for (size_t i = 0; i < n; ++i) {
      uint32_t code = 0;
      std::memcpy(&code, narrow.data() + i * dtype_size(f.dtype), dtype_size(f.dtype));
      uint32_t want = encode(f.dtype, src[i]);
      mismatches += code != want || f32_bits(back[i]) != f32_bits(decode(f.dtype, want));
    }
    EXPECT_EQ(mismatches, 0u) << dtype_name(f.dtype);
    // Narrow -> narrow through the blocked path equals decode then encode.
    DType other = f.dtype == DType::F16 ? DType::F8E4M3 : DType::F16;
    std::vector<uint8_t> converted(n * dtype_size(other));
    convert_elements(narrow.data(), f.dtype, converted.data(), other, n);
    mismatches = 0;
    for (size_t i = 0; i < n; ++i) {
      uint32_t code = 0, got = 0;
      std::memcpy(&code, narrow.data() + i * dtype_size(f.dtype), dtype_size(f.dtype));
      std::memcpy(&got, converted.data() + i * dtype_size(other), dtype_size(other));
      mismatches += got != encode(other, decode(f.dtype, code));
    }
    EXPECT_EQ(mismatches, 0u) << dtype_name(f.dtype) << " -> " << dtype_name(other);
  }
}

}  // namespace
}  // namespace tessera
