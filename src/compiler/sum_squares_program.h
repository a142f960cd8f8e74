// The compensated sum of squares on the chip (gradient clipping's norm): every square is split
// exactly into two f32 values and added into per-lane double-f32 accumulators, which a tree
// then combines per core and, on core 0, across cores.
#pragma once
#include <cstdint>

#include "arch/chip.h"
#include "base/dtype.h"
#include "isa/isa.h"

namespace tessera::compiler {

// x (n) of `dtype` (f32, or a narrower float widened on the chip) at x_addr -> two f32 (hi, lo)
// at out_addr whose exact sum is sum(x^2) within a relative 3 * 2^-48 per addition (see the
// .cpp). partials_addr holds 8 bytes per core for the cross-core step.
isa::Program sum_squares_program(const arch::ChipSpec& chip, int64_t x_addr, DType dtype, int64_t n,
                                 int64_t partials_addr, int64_t out_addr);

// The HBM bytes sum_squares_program needs at partials_addr.
int64_t sum_squares_partials_bytes(const arch::ChipSpec& chip);

}  // namespace tessera::compiler
