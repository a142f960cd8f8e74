// Element types: names, sizes and the bit-exact conversions declared in dtype.h.
// The narrow float formats share one encoder and one decoder, parameterised by their field
// widths; both are branch-free so that the array loops of convert_elements vectorise.
#include "base/dtype.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "base/error.h"

namespace tessera {
namespace {

// A narrow float format: exponent and mantissa widths, and whether the all-ones exponent is
// reserved for infinities and NaNs (IEEE-like) or only S.1111.111 is NaN (OCP E4M3FN).
template <int kExpBitsT, int kManBitsT, bool kIeeeT>
struct Format {
  static constexpr int kExpBits = kExpBitsT;
  static constexpr int kManBits = kManBitsT;
  static constexpr bool kIeee = kIeeeT;
  static constexpr int kBias = (1 << (kExpBits - 1)) - 1;
  static constexpr int kShift = 23 - kManBits;  // f32 mantissa bits dropped
  static constexpr uint32_t kManMask = (1u << kManBits) - 1;
  static constexpr uint32_t kExpAllOnes = (1u << kExpBits) - 1;
  static constexpr uint32_t kSignBit = 1u << (kExpBits + kManBits);
  // Largest finite magnitude code, and the code stored when a value rounds beyond it
  // (infinity, or NaN for E4M3FN).
  static constexpr uint32_t kMaxFinite =
      kIeee ? (kExpAllOnes << kManBits) - 1 : (kExpAllOnes << kManBits) | (kManMask - 1);
  static constexpr uint32_t kOverflow =
      kIeee ? kExpAllOnes << kManBits : (kExpAllOnes << kManBits) | kManMask;
  // The smallest normal magnitude, as f32 bits.
  static constexpr uint32_t kMinNormalF32 = static_cast<uint32_t>(127 + 1 - kBias) << 23;
  // 2^23 subnormal units (a subnormal unit is 2^(1 - bias - mantissa bits)): the f32 numbers
  // in [kMagic, 2 kMagic) are spaced exactly one unit apart.
  static constexpr float kMagic =
      std::bit_cast<float>(static_cast<uint32_t>(127 + 1 - kBias - kManBits + 23) << 23);
};

using F16 = Format<5, 10, true>;
using E4M3 = Format<4, 3, false>;
using E5M2 = Format<5, 2, true>;

constexpr uint32_t kF32Inf = 0x7f800000u;
constexpr uint32_t kF32Quiet = 0x00400000u;

// f32 -> narrow code, round to nearest even.
template <typename F>
inline uint32_t encode(float value) {
  uint32_t bits = std::bit_cast<uint32_t>(value);
  uint32_t sign = (bits >> 31) * F::kSignBit;
  uint32_t abs = bits & 0x7fffffffu;
  // Normal result: round the f32 bits at the narrow mantissa width (a carry out of the mantissa
  // moves to the next exponent, as it should), then rebias the exponent.
  uint32_t rounded = (abs + ((1u << (F::kShift - 1)) - 1) + ((abs >> F::kShift) & 1)) >> F::kShift;
  uint32_t normal = rounded - (static_cast<uint32_t>(127 - F::kBias) << F::kManBits);
  // Subnormal result: adding 2^23 subnormal units makes the f32 adder round |value| to a whole
  // number of units (to nearest even, the default rounding mode); the low bits are the code.
  float rounded_sum = std::bit_cast<float>(abs) + F::kMagic;
  uint32_t subnormal = std::bit_cast<uint32_t>(rounded_sum) - std::bit_cast<uint32_t>(F::kMagic);

  uint32_t magnitude = abs < F::kMinNormalF32 ? subnormal : normal;
  magnitude = magnitude > F::kMaxFinite ? F::kOverflow : magnitude;
  // NaN: quiet, keeping the top of the payload (E4M3FN has a single NaN code).
  uint32_t nan = F::kOverflow | F::kManMask;
  if constexpr (F::kIeee)
    nan = F::kOverflow | (1u << (F::kManBits - 1)) | ((abs >> F::kShift) & F::kManMask);
  magnitude = abs > kF32Inf ? nan : magnitude;
  return sign | magnitude;
}

// Narrow code -> f32, exact. NaNs come out quiet with their payload.
template <typename F>
inline float decode(uint32_t code) {
  uint32_t sign = (code & F::kSignBit) != 0 ? 0x80000000u : 0u;
  uint32_t magnitude = code & (F::kSignBit - 1);
  uint32_t normal = (magnitude << F::kShift) + (static_cast<uint32_t>(127 - F::kBias) << 23);
  // Subnormal: (2^23 + code) units, minus the 2^23 units, is exact.
  uint32_t subnormal = std::bit_cast<uint32_t>(
      std::bit_cast<float>(std::bit_cast<uint32_t>(F::kMagic) + magnitude) - F::kMagic);
  uint32_t special_payload = kF32Inf | (magnitude << F::kShift);
  uint32_t special = F::kIeee ? special_payload | (magnitude > F::kOverflow ? kF32Quiet : 0u)
                              : special_payload | kF32Quiet;
  bool is_special = F::kIeee ? magnitude >= F::kOverflow : magnitude == F::kOverflow;
  uint32_t out = is_special ? special : normal;
  out = magnitude <= F::kManMask ? subnormal : out;
  return std::bit_cast<float>(out | sign);
}

// bf16 is the top half of f32: rounding is one add, widening one shift.
inline uint16_t encode_bf16(float value) {
  uint32_t bits = std::bit_cast<uint32_t>(value);
  uint32_t rounded = (bits + 0x7fffu + ((bits >> 16) & 1)) >> 16;
  uint32_t nan = (bits >> 16) | (kF32Quiet >> 16);
  return static_cast<uint16_t>((bits & 0x7fffffffu) > kF32Inf ? nan : rounded);
}

inline float decode_bf16(uint16_t code) {
  uint32_t bits = static_cast<uint32_t>(code) << 16;
  bits |= (bits & 0x7fffffffu) > kF32Inf ? kF32Quiet : 0u;
  return std::bit_cast<float>(bits);
}

// Float -> integer: truncation toward zero; NaN gives 0 and values beyond the range saturate
// (where a C cast is undefined).
template <typename I>
inline I truncate_to_int(float value) {
  constexpr float kLimit =
      static_cast<float>(std::numeric_limits<I>::digits == 31 ? 0x1p31 : 0x1p63);
  if (std::isnan(value)) return 0;
  if (value >= kLimit) return std::numeric_limits<I>::max();
  if (value <= -kLimit) return std::numeric_limits<I>::min();
  return static_cast<I>(value);
}

// int64 -> f32 rounded to odd: exact below 2^24; beyond, the dropped bits are folded into the
// lowest kept bit, so that rounding the result once more to a narrower float (at most 22
// mantissa bits) gives the correctly rounded value of the integer.
inline float int_to_f32_round_odd(int64_t value) {
  uint64_t magnitude = value < 0 ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
  int drop = std::max(0, 64 - std::countl_zero(magnitude) - 24);
  uint64_t kept = magnitude >> drop;
  kept |= (magnitude & ((uint64_t{1} << drop) - 1)) != 0 ? 1 : 0;
  float result = std::ldexp(static_cast<float>(kept), drop);
  return value < 0 ? -result : result;
}

template <typename T, typename Fn>
inline void map_elements(const void* src, void* dst, size_t n, Fn fn) {
  const auto* in = static_cast<const T*>(src);
  auto* out = static_cast<decltype(fn(in[0]))*>(dst);
  for (size_t i = 0; i < n; ++i) out[i] = fn(in[i]);
}

// A float dtype's elements -> f32 (exact).
void decode_to_f32(const void* src, DType dtype, float* dst, size_t n) {
  switch (dtype) {
    case DType::F32: std::memcpy(dst, src, n * sizeof(float)); return;
    case DType::BF16: map_elements<uint16_t>(src, dst, n, decode_bf16); return;
    case DType::F16:
      map_elements<uint16_t>(src, dst, n, [](uint16_t c) { return decode<F16>(c); });
      return;
    case DType::F8E4M3:
      map_elements<uint8_t>(src, dst, n, [](uint8_t c) { return decode<E4M3>(c); });
      return;
    case DType::F8E5M2:
      map_elements<uint8_t>(src, dst, n, [](uint8_t c) { return decode<E5M2>(c); });
      return;
    default: TS_ASSERT(!"decode_to_f32 on an integer dtype");
  }
}

// f32 -> a float dtype's elements (round to nearest even).
void encode_from_f32(const float* src, DType dtype, void* dst, size_t n) {
  auto to_u16 = [](auto fn) { return [fn](float v) { return static_cast<uint16_t>(fn(v)); }; };
  auto to_u8 = [](auto fn) { return [fn](float v) { return static_cast<uint8_t>(fn(v)); }; };
  switch (dtype) {
    case DType::F32: std::memcpy(dst, src, n * sizeof(float)); return;
    case DType::BF16: map_elements<float>(src, dst, n, encode_bf16); return;
    case DType::F16: map_elements<float>(src, dst, n, to_u16(encode<F16>)); return;
    case DType::F8E4M3: map_elements<float>(src, dst, n, to_u8(encode<E4M3>)); return;
    case DType::F8E5M2: map_elements<float>(src, dst, n, to_u8(encode<E5M2>)); return;
    default: TS_ASSERT(!"encode_from_f32 on an integer dtype");
  }
}

void load_ints(const void* src, DType dtype, int64_t* dst, size_t n) {
  if (dtype == DType::I64) {
    std::memcpy(dst, src, n * sizeof(int64_t));
    return;
  }
  TS_ASSERT(dtype == DType::I32);
  map_elements<int32_t>(src, dst, n, [](int32_t v) { return static_cast<int64_t>(v); });
}

void store_truncated(const float* src, DType dtype, void* dst, size_t n) {
  if (dtype == DType::I64) return map_elements<float>(src, dst, n, truncate_to_int<int64_t>);
  TS_ASSERT(dtype == DType::I32);
  map_elements<float>(src, dst, n, truncate_to_int<int32_t>);
}

// Conversions that need an intermediate buffer run over blocks of this many elements.
constexpr size_t kBlock = 1024;

}  // namespace

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::F32: return 4;
    case DType::BF16: return 2;
    case DType::F16: return 2;
    case DType::F8E4M3: return 1;
    case DType::F8E5M2: return 1;
    case DType::I32: return 4;
    case DType::I64: return 8;
  }
  TS_ASSERT(!"unknown dtype");
  return 0;
}

std::string_view dtype_name(DType dtype) {
  switch (dtype) {
    case DType::F32: return "f32";
    case DType::BF16: return "bf16";
    case DType::F16: return "f16";
    case DType::F8E4M3: return "f8e4m3";
    case DType::F8E5M2: return "f8e5m2";
    case DType::I32: return "i32";
    case DType::I64: return "i64";
  }
  TS_ASSERT(!"unknown dtype");
  return "";
}

DType parse_dtype(std::string_view name) {
  std::string valid;
  for (DType dtype : kAllDTypes) {
    if (dtype_name(dtype) == name) return dtype;
    valid += valid.empty() ? "" : ", ";
    valid += dtype_name(dtype);
  }
  fail("unknown dtype '{}' (valid: {})", name, valid);
}

bool is_floating(DType dtype) { return dtype != DType::I32 && dtype != DType::I64; }

uint16_t f32_to_bf16(float value) { return encode_bf16(value); }
float bf16_to_f32(uint16_t bits) { return decode_bf16(bits); }
uint16_t f32_to_f16(float value) { return static_cast<uint16_t>(encode<F16>(value)); }
float f16_to_f32(uint16_t bits) { return decode<F16>(bits); }
uint8_t f32_to_e4m3(float value) { return static_cast<uint8_t>(encode<E4M3>(value)); }
float e4m3_to_f32(uint8_t bits) { return decode<E4M3>(bits); }
uint8_t f32_to_e5m2(float value) { return static_cast<uint8_t>(encode<E5M2>(value)); }
float e5m2_to_f32(uint8_t bits) { return decode<E5M2>(bits); }

void convert_elements(const void* src, DType src_dtype, void* dst, DType dst_dtype, size_t n) {
  if (src_dtype == dst_dtype) {
    std::memcpy(dst, src, n * dtype_size(src_dtype));
    return;
  }
  if (src_dtype == DType::F32 && is_floating(dst_dtype))
    return encode_from_f32(static_cast<const float*>(src), dst_dtype, dst, n);
  if (is_floating(src_dtype) && dst_dtype == DType::F32)
    return decode_to_f32(src, src_dtype, static_cast<float*>(dst), n);
  if (!is_floating(src_dtype) && !is_floating(dst_dtype)) {
    if (dst_dtype == DType::I64) return load_ints(src, src_dtype, static_cast<int64_t*>(dst), n);
    // I64 -> I32 keeps the low 32 bits (two's complement wrap-around, as a C++ cast does).
    return map_elements<int64_t>(src, dst, n, [](int64_t v) { return static_cast<int32_t>(v); });
  }
  // The remaining pairs go through a block of f32 (or int64) values.
  size_t src_size = dtype_size(src_dtype);
  size_t dst_size = dtype_size(dst_dtype);
  float floats[kBlock];
  int64_t ints[kBlock];
  for (size_t begin = 0; begin < n; begin += kBlock) {
    size_t count = std::min(kBlock, n - begin);
    const void* in = static_cast<const char*>(src) + begin * src_size;
    void* out = static_cast<char*>(dst) + begin * dst_size;
    if (is_floating(src_dtype)) {
      decode_to_f32(in, src_dtype, floats, count);
      if (is_floating(dst_dtype))
        encode_from_f32(floats, dst_dtype, out, count);
      else
        store_truncated(floats, dst_dtype, out, count);
      continue;
    }
    load_ints(in, src_dtype, ints, count);
    if (dst_dtype == DType::F32) {
      map_elements<int64_t>(ints, out, count, [](int64_t v) { return static_cast<float>(v); });
      continue;
    }
    map_elements<int64_t>(ints, floats, count, int_to_f32_round_odd);
    encode_from_f32(floats, dst_dtype, out, count);
  }
}

float round_to_dtype(float value, DType dtype) {
  switch (dtype) {
    case DType::F32: return value;
    case DType::BF16: return decode_bf16(encode_bf16(value));
    case DType::F16: return decode<F16>(encode<F16>(value));
    case DType::F8E4M3: return decode<E4M3>(encode<E4M3>(value));
    case DType::F8E5M2: return decode<E5M2>(encode<E5M2>(value));
    case DType::I32: return static_cast<float>(truncate_to_int<int32_t>(value));
    case DType::I64: return static_cast<float>(truncate_to_int<int64_t>(value));
  }
  TS_ASSERT(!"unknown dtype");
  return value;
}

}  // namespace tessera
