// Stochastic rounding of f32 values to a narrower float dtype (vconvert ... stochastic).
#pragma once
#include <cstdint>

#include "base/dtype.h"

namespace tessera::sim {

// `value` rounded to one of its two neighbours in the float `dtype` (as an f32): 32 uniform
// random bits `random` are added below the dtype's last kept bit of |value| and the sum is
// truncated toward zero, so the larger neighbour comes with probability (|value| - lower) /
// spacing, to 2^-32. Representable values, zeros, infinities and NaNs are returned unchanged;
// a magnitude rounded up beyond the dtype's largest finite value is returned as that value
// and overflows when stored (as round-to-nearest-even would).
float stochastic_round(float value, DType dtype, uint32_t random);

}  // namespace tessera::sim
