// Packing f32 views for the chip's staging copies: a view of any strides to a row-major array
// and back, a row (the last dimension) at a time, one memcpy per row where it is contiguous.
// The same values, in the same order, as cpu-ref's element-at-a-time load_all and store_all.
#pragma once
#include <vector>

#include "backends/backend.h"

namespace tessera {

// The elements of `v` (F32, any strides) in row-major order of its shape.
std::vector<float> pack_f32(const View& v);
// `values` (row-major, numel of `v`) into the elements of `v` (F32, any strides), in row-major
// order, so that where strides repeat an element the last value written stays.
void unpack_f32(const std::vector<float>& values, const View& v);

}  // namespace tessera
