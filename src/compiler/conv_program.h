// 2-D convolution as implicit GEMM on the matrix engine. Each image's im2col matrix
// col (K = C*KH*KW, P = OH*OW) is gathered (vgather) from the image held in the scratchpad as bf16
// behind one zero element, at indices computed once per shape (padding points at the zero);
// then y[n] (O, P) = W (O, K) @ col + bias, and in the backward pass dW += dy[n] @ col^T,
// dcol = W^T @ dy[n] scattered back into dx[n] (vscatter_add, col2im), dbias += row sums of dy.
// Inputs are f32 (rounded to bf16 by vconvert on the chip) or bf16; accumulation is f32.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "arch/chip.h"
#include "base/dtype.h"
#include "isa/isa.h"

namespace tessera::compiler {

struct ConvGeometry {
  int64_t batch = 0, channels = 0, height = 0, width = 0;  // x (N, C, H, W)
  int64_t out_channels = 0, kernel_h = 0, kernel_w = 0;    // weight (O, C, KH, KW)
  int64_t out_height = 0, out_width = 0, stride = 1, padding = 0;
  int64_t k() const { return channels * kernel_h * kernel_w; }
  int64_t positions() const { return out_height * out_width; }
  int64_t plane() const { return height * width; }
};

// How a conv program cuts the output positions: blocks of `block` positions; the index table
// stays in the scratchpad when `resident`.
struct ConvTiling {
  int64_t block = 0;
  bool resident = false;
};

// The gather indices of one image, block by block: block b holds (K, positions of the block)
// row-major, each entry 1 + c*H*W + ih*W + iw, or 0 where the window reads padding.
std::vector<int32_t> im2col_indices(const ConvGeometry& g, int64_t block);

struct ConvForward {
  ConvGeometry g;
  DType dtype = DType::F32;  // of x, weight and y in HBM (f32 or bf16)
  int64_t x = 0, weight = 0, indices = 0, y = 0;
  int64_t bias = -1;  // (O) f32, or -1 for none
};
ConvTiling conv_forward_tiling(const arch::ChipSpec& chip, const ConvGeometry& g, DType dtype);
isa::Program conv_forward_program(const arch::ChipSpec& chip, const ConvForward& c, const ConvTiling& t);
// Every field of `c` and `t`, as a program cache key (program_key.h).
std::string conv_forward_key(const ConvForward& c, const ConvTiling& t);

// grads: (1 + cores used, O*K + O) f32 whose row 0 holds the old dweight and dbias; the program
// writes each core's partial sums to its row and sums the rows into `sums` (O*K + O, `dtype`).
struct ConvBackward {
  ConvGeometry g;
  DType dtype = DType::F32;  // of x, weight, dy, dx and sums in HBM
  int64_t x = 0, weight = 0, dy = 0, indices = 0, dx = 0, grads = 0, sums = 0;
};
ConvTiling conv_backward_tiling(const arch::ChipSpec& chip, const ConvGeometry& g, DType dtype);
int64_t conv_backward_cores(const arch::ChipSpec& chip, const ConvGeometry& g);
isa::Program conv_backward_program(const arch::ChipSpec& chip, const ConvBackward& c, const ConvTiling& t);
std::string conv_backward_key(const ConvBackward& c, const ConvTiling& t);

}  // namespace tessera::compiler
