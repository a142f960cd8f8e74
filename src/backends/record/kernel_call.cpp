// Sizes of logged kernel operands.
#include "backends/record/kernel_call.h"

namespace tessera {

int64_t KernelOperand::distinct_elements() const {
  if (!present) return 0;
  int64_t n = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (d >= strides.size() || strides[d] != 0) n *= shape[d];
  }
  return n;
}

int64_t KernelOperand::distinct_bytes() const {
  return distinct_elements() * static_cast<int64_t>(dtype_size(dtype));
}

}  // namespace tessera
