// The Vector engine's f32 arithmetic, the definition of every unary, binary and reduction
// function: one loop per function, chosen once per instruction. Each element is computed on
// its own, so the exactly rounded functions (add, sub, mul, div, max, min, relu, neg, sqrt,
// recip, copy) vectorise without changing a bit; exp and gelu (tanh form) are the simulator's
// own (vector_math.h), log the host's libm. max and min return NaN when either input is NaN; when both inputs of
// another operation are NaN, which one's sign and payload the result carries is the host's choice.
//
// `out` may be the very same array as an input (element i is read before it is written) but
// must not overlap an input otherwise; callers copy such inputs first.
#pragma once
#include <cstdint>

#include "isa/isa.h"

namespace tessera::sim {

// out[i] = fn(x[i]) for i < n.
void unary_f32(isa::UnaryFn fn, const float* x, float* out, int64_t n);
// out (rows x cols) = fn(a (rows x cols), b[i * b_row_step + j * b_col_step]): steps of 0
// broadcast b along rows or columns.
void binary_f32(isa::BinaryFn fn, const float* a, const float* b, float* out, int64_t rows, int64_t cols,
                int64_t b_row_step, int64_t b_col_step);
// out[i] = fn over row i of x (rows x cols): from the row's first element, then columns
// 1 .. cols-1 in order. `out` must not overlap x.
void reduce_rows_f32(isa::ReduceFn fn, const float* x, float* out, int64_t rows, int64_t cols);

}  // namespace tessera::sim
