// Stochastic rounding (see stochastic_round.h), computed exactly in double.
#include "sim/stochastic_round.h"

#include <cmath>
#include <limits>

#include "base/error.h"

namespace tessera::sim {

namespace {

struct FloatFormat {
  int mantissa_bits;  // stored fraction bits
  int min_exponent;   // of the smallest normal value; below it the spacing stays fixed
};

FloatFormat format_of(DType dtype) {
  switch (dtype) {
    case DType::F32: return {23, -126};
    case DType::BF16: return {7, -126};
    case DType::F16: return {10, -14};
    case DType::F8E4M3: return {3, -6};
    case DType::F8E5M2: return {2, -14};
    default: break;
  }
  TS_ASSERT(!"stochastic rounding to an integer dtype");
  return {};
}

}  // namespace

float stochastic_round(float value, DType dtype, uint32_t random) {
  if (!std::isfinite(value) || value == 0.0f) return value;
  FloatFormat format = format_of(dtype);
  double magnitude = std::fabs(static_cast<double>(value));
  // The spacing of the dtype's values around `magnitude`: a power of two.
  int exponent = std::max(std::ilogb(magnitude), format.min_exponent);
  double spacing = std::ldexp(1.0, exponent - format.mantissa_bits);
  double lower = std::floor(magnitude / spacing) * spacing;
  // The dropped part in units of 2^-32 spacings, truncated; a carry out of 32 bits rounds up.
  auto dropped = static_cast<uint64_t>(std::ldexp((magnitude - lower) / spacing, 32));
  bool up = dropped + random >= (uint64_t{1} << 32);
  double result = up ? lower + spacing : lower;
  if (result > std::numeric_limits<float>::max()) result = std::numeric_limits<float>::infinity();
  return std::copysign(static_cast<float>(result), value);
}

}  // namespace tessera::sim
