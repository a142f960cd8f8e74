// The compensated sum of squares on the chip (gradient clipping's norm) of one tensor or of a
// list of tensors: every square is split exactly into two f32 values and added into per-lane
// double-f32 accumulators, which a tree then combines per core and, on core 0, across cores.
#pragma once
#include <cstdint>
#include <span>
#include <string>

#include "arch/chip.h"
#include "base/dtype.h"
#include "isa/isa.h"

namespace tessera::compiler {

// One tensor of a sum of squares: n elements of `dtype` (f32, or a narrower float widened on
// the chip) at addr in HBM.
struct SumSquaresSegment {
  int64_t addr = 0;
  DType dtype = DType::F32;
  int64_t n = 0;
};

// The squares of every segment's elements (at least one element in all; segments of 0 elements
// add nothing) -> two f32 (hi, lo) at out_addr whose exact sum is the sum of squares within a
// relative 3 * 2^-48 per addition (see the .cpp). The segments' tiles are dealt round-robin to
// the cores, each read at its own address, so a list of tensors is one program. partials_addr
// holds 8 bytes per core for the cross-core step.
isa::Program sum_squares_program(const arch::ChipSpec& chip, std::span<const SumSquaresSegment> segments,
                                 int64_t partials_addr, int64_t out_addr);

// The program cache's key (program_cache.h) of sum_squares_program's arguments but the chip.
std::string sum_squares_key(std::span<const SumSquaresSegment> segments, int64_t partials_addr, int64_t out_addr);

// The HBM bytes sum_squares_program needs at partials_addr.
int64_t sum_squares_partials_bytes(const arch::ChipSpec& chip);

}  // namespace tessera::compiler
