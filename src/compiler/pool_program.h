// Max pooling on the vector engine. A block of planes is transposed to (H*W, planes), so that
// one vgather per window offset j fetches that offset's value for every output position and
// plane at once, at indices (the offset's position in the plane, per output) that are a
// constant of the shape. The max is a running vbinary max; the first arg-max is found by
// walking the offsets from last to first, keeping pos += is_max_j * (position_j - pos) with
// is_max = relu((v - max) * 2^200 + 1). The backward pass zeroes each plane of dx and
// scatter-adds dy at the indices (vscatter_add).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "arch/chip.h"
#include "base/dtype.h"
#include "isa/isa.h"

namespace tessera::compiler {

struct PoolGeometry {
  int64_t planes = 0, height = 0, width = 0;  // x (N*C, H, W)
  int64_t kernel = 1, stride = 1, out_height = 0, out_width = 0;
  int64_t plane() const { return height * width; }
  int64_t positions() const { return out_height * out_width; }
};

// (kernel*kernel, OH*OW): the plane position each window offset reads for each output.
std::vector<int32_t> pool_window_positions(const PoolGeometry& g);

struct PoolForward {
  PoolGeometry g;
  DType dtype = DType::F32;  // of x and y
  int64_t x = 0, positions = 0, positions_f32 = 0, y = 0, indices = 0;  // indices: I64
};
isa::Program max_pool_program(const arch::ChipSpec& chip, const PoolForward& p);
// Every field of `p`, as a program cache key (program_key.h).
std::string max_pool_key(const PoolForward& p);

struct PoolBackward {
  PoolGeometry g;
  DType dtype = DType::F32;  // of dy and dx
  int64_t dy = 0, indices = 0, dx = 0;  // indices: I64
};
isa::Program max_pool_backward_program(const arch::ChipSpec& chip, const PoolBackward& p);
std::string max_pool_backward_key(const PoolBackward& p);

}  // namespace tessera::compiler
