// Element types and their bit-exact conversions.
// Narrow float formats are stored as raw bits; conversions from f32 round to nearest, ties to
// even, and handle NaN, infinity, overflow and subnormals as the formats define:
//   bf16: 1-8-7, f16 (IEEE binary16): 1-5-10,
//   fp8 e4m3 (OCP "E4M3FN"): 1-4-3, bias 7, no infinities, NaN = S.1111.111, max 448;
//     values beyond 448 after rounding saturate to NaN (the OCP non-saturating mode).
//   fp8 e5m2 (OCP): 1-5-2, bias 15, IEEE-like with infinities.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tessera {

enum class DType : uint8_t { F32, BF16, F16, F8E4M3, F8E5M2, I32, I64 };

inline constexpr DType kAllDTypes[] = {DType::F32,    DType::BF16, DType::F16, DType::F8E4M3,
                                       DType::F8E5M2, DType::I32,  DType::I64};

size_t dtype_size(DType dtype);          // bytes per element
std::string_view dtype_name(DType dtype);  // "f32", "bf16", "f16", "f8e4m3", "f8e5m2", "i32", "i64"
DType parse_dtype(std::string_view name);  // throws Error listing the valid names
bool is_floating(DType dtype);

// f32 -> narrow (round to nearest even) and narrow -> f32 (exact).
uint16_t f32_to_bf16(float value);
float bf16_to_f32(uint16_t bits);
uint16_t f32_to_f16(float value);
float f16_to_f32(uint16_t bits);
uint8_t f32_to_e4m3(float value);
float e4m3_to_f32(uint8_t bits);
uint8_t f32_to_e5m2(float value);
float e5m2_to_f32(uint8_t bits);

// Converts n elements between any two dtypes through f32 (integers through int64/double where
// that is exact). Buffers are contiguous and must not overlap. Every float result is rounded
// once (an integer goes to a narrow float in a single rounding). Float -> integer truncates
// toward zero like a C cast, and defines what the cast leaves undefined: NaN gives 0 and values
// beyond the range saturate to its ends. I64 -> I32 keeps the low 32 bits (wraps around).
void convert_elements(const void* src, DType src_dtype, void* dst, DType dst_dtype, size_t n);

// Rounds an f32 value to the nearest value representable in `dtype` (identity for F32); for an
// integer dtype, the value convert_elements would store.
float round_to_dtype(float value, DType dtype);

}  // namespace tessera
