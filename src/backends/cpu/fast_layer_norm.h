// The fast CPU layer norm over contiguous f32 rows (fast_nn.cpp), shared by layer_norm and the
// fused add_layer_norm (fast_fused.cpp), so that both give the same bits.
#pragma once
#include <cstdint>

namespace tessera::fast {

// x (rows, C) -> y (rows, C), mean and rstd (rows). When r is given, each row is first
// s = x + r (written to s) and s is normalised.
void layer_norm_rows(const float* x, const float* r, float* s, const float* weight, const float* bias, float* y,
                     float* mean, float* rstd, int64_t rows, int64_t channels, float eps);
// dx (rows, C) = layer norm's input gradient for dy at x, plus ds when given; dweight and dbias
// (C) accumulate.
void layer_norm_backward_rows(const float* dy, const float* ds, const float* x, const float* weight,
                              const float* mean, const float* rstd, float* dx, float* dweight, float* dbias,
                              int64_t rows, int64_t channels);

}  // namespace tessera::fast
