// KernelCall: one kernel launch as the recording backend logs it (record_backend.h) — which
// kernel, the shape, strides and dtype of each operand with how the kernel uses it, and the
// kernel's scalar arguments where they decide its cost. No data: a log of what a step asks
// the device to do, read by the cost model (perf/kernel_costs.h).
#pragma once
#include <cstdint>
#include <vector>

#include "backends/backend.h"

namespace tessera {

enum class Access { Read, Write, ReadWrite };

struct KernelOperand {
  bool present = true;  // false for an optional view passed with data == nullptr
  DType dtype = DType::F32;
  Shape shape;
  Strides strides;
  Access access = Access::Read;

  // Elements the operand occupies in memory: broadcast (zero-stride) dimensions count once.
  int64_t distinct_elements() const;
  int64_t distinct_bytes() const;
};

struct KernelCall {
  Kernel kernel = Kernel::Copy;
  // Operands in the order of the kernel's arguments in backend.h.
  std::vector<KernelOperand> operands;
  int op = 0;  // the BinaryOp, UnaryOp or ReduceOp of binary, unary(_backward) and reduce
  MatmulArgs matmul;  // matmul only
  Conv2dArgs conv;    // conv2d and conv2d_backward only
  int64_t pool_kernel = 0, pool_stride = 0;  // max_pool2d only
};

}  // namespace tessera
