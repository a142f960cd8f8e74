// scatter_along on the chip: out (outer, n, inner) is zero except out[o, j, i] = values[o, i]
// at j = indices[o, i]. Each job zero-fills a table in the scratchpad for a block of planes o
// and columns i, scatters its values into it (vscatter_add at table-relative positions) and
// writes the table out.
#pragma once
#include <cstdint>
#include <string>

#include "arch/chip.h"
#include "base/dtype.h"
#include "isa/isa.h"

namespace tessera::compiler {

// A job covers `planes` values of o and `cols` values of i (planes > 1 only when cols = inner).
struct ScatterAlongTiling {
  int64_t planes = 1, cols = 1;
};
ScatterAlongTiling scatter_along_tiling(const arch::ChipSpec& chip, int64_t outer, int64_t n, int64_t inner,
                                        DType dtype);

// The position of out[o, j, i] in the table of its job: what the index array holds for (o, i).
int32_t scatter_along_position(const ScatterAlongTiling& tiling, int64_t n, int64_t inner, int64_t o, int64_t j,
                               int64_t i);

// values (outer, inner) of `dtype` at values_addr, positions (outer, inner) i32 at
// positions_addr (scatter_along_position of each target) -> out (outer, n, inner) of `dtype`.
isa::Program scatter_along_program(const arch::ChipSpec& chip, const ScatterAlongTiling& tiling, int64_t outer,
                                   int64_t n, int64_t inner, DType dtype, int64_t values_addr, int64_t positions_addr,
                                   int64_t out_addr);
// Every argument of scatter_along_program (but the chip), as a program cache key (program_key.h).
std::string scatter_along_key(const ScatterAlongTiling& tiling, int64_t outer, int64_t n, int64_t inner, DType dtype,
                              int64_t values_addr, int64_t positions_addr, int64_t out_addr);

}  // namespace tessera::compiler
