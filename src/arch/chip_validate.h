// Whole-chip checks that no single parameter can make: required keys, figures that only make
// sense for one kind of matrix engine, and a scratchpad that holds the engine's smallest tile.
#pragma once
#include <cstdint>

#include "arch/chip.h"

namespace tessera::arch {

// Bytes of the smallest tile the matrix engine works on: two bf16 operand tiles and one fp32
// accumulator tile, each rows x cols.
int64_t smallest_tile_bytes(const MatrixEngine& matrix);

// Throws Error "<place>: <key>: <what is wrong>", the place being where the key was set (see
// ChipSpec::where).
void validate_chip(const ChipSpec& chip);

}  // namespace tessera::arch
