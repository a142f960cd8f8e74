// The first IR of the GEMM lowering: what a batched matrix product computes, where its
// operands live in HBM and how they are laid out. out[b] = op(A[b]) @ op(B[b]) (+ out[b]),
// op a transpose or not; A is (M, K) or, transposed, (K, M), row-major; B (K, N) or (N, K);
// out (M, N). Batch b starts batch_stride_* elements after batch 0 (0: shared operand).
#pragma once
#include <cstdint>
#include <string>

#include "arch/chip.h"
#include "base/dtype.h"

namespace tessera::compiler {

struct GemmKernel {
  int64_t batch = 1, m = 0, n = 0, k = 0;
  bool transpose_a = false, transpose_b = false;
  DType a_dtype = DType::BF16, b_dtype = DType::BF16;  // f32 inputs are rounded to bf16 on the chip
  DType out_dtype = DType::BF16;                        // f32 or a 16-bit float
  bool accumulate = false;                              // out += product
  int64_t batch_stride_a = 0, batch_stride_b = 0, batch_stride_out = 0;  // elements

  // The dtype the matrix engine multiplies: f16 when both inputs are f16, else bf16.
  DType matrix_dtype() const;
  double flops() const;  // 2 batch M N K
  // Bytes each operand spans in HBM (batches included).
  int64_t a_bytes() const;
  int64_t b_bytes() const;
  int64_t out_bytes() const;
};

// The kernel `k` as text: "gemm 4 x 512x768x256 a bf16 (transposed) b ... -> out f32 (accumulate)".
std::string to_string(const GemmKernel& k);

// An Error naming the kernel and what is wrong when it cannot run on `chip`: sizes not positive,
// a dtype the lowering does not take, a matrix dtype the chip's engine lacks.
void check_kernel(const GemmKernel& k, const arch::ChipSpec& chip);

}  // namespace tessera::compiler
