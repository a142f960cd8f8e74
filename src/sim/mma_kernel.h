// The host kernel of `mma`: a blocked f32 matrix product whose every output element is still
// summed in the order the ISA defines (increasing k, one rounding per addition).
#pragma once
#include <cstdint>

#include "base/dtype.h"

namespace tessera::sim {

// acc (m, n) f32 = [acc +] a (m, k) @ b (k, n), a and b row-major tiles of `dtype` (any float
// dtype), all contiguous. Each acc[i][j] starts at 0 (or its value when `accumulate`) and adds
// a[i][p] * b[p][j] for p = 0 .. k-1 with a fused multiply-add: the product is exact (inputs
// narrower than f32; for bf16 products beyond f32's range too, as a fused operation keeps
// them) and the sum is rounded to nearest even once per addition. acc must not overlap a or b.
// Threaded with OpenMP over blocks of acc; bit-identical for any thread count.
void mma_tile(float* acc, const void* a, const void* b, DType dtype, int64_t m, int64_t n, int64_t k,
              bool accumulate);

}  // namespace tessera::sim
