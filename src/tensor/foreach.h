// Multi-tensor ("foreach") operations on lists of tensors, as PyTorch's torch._foreach_* are:
// one multi-tensor kernel (backend.h) per backend among the tensors, where the per-tensor ops
// launch one kernel per tensor. No autograd. Gradient clipping and AdamW use them (nn/optimizer.h).
#pragma once
#include <vector>

#include "tensor/tensor.h"

namespace tessera {

// The sum of the squares of all elements of the defined tensors (undefined ones are skipped),
// accumulated in double; the tensors must be of a float dtype.
double foreach_sum_squares(const std::vector<Tensor>& xs);

// xs[i] * factor for each defined xs[i], as new contiguous tensors (of its dtype, on its device),
// bit for bit what scale(xs[i], factor) gives; an undefined xs[i] gives an undefined tensor.
std::vector<Tensor> foreach_scale(const std::vector<Tensor>& xs, float factor);

// One AdamW update (backend.h's adamw) of params[i], ms[i] and vs[i] in place, from grads[i] with
// args[i], for each i whose gradient is defined (the lists of one length; params, ms and vs
// contiguous, each gradient of its parameter's shape and device; no parameter twice): bit for
// bit what adamw gives.
void foreach_adamw(const std::vector<Tensor>& params, const std::vector<Tensor>& grads, const std::vector<Tensor>& ms,
                   const std::vector<Tensor>& vs, const std::vector<AdamWArgs>& args);

}  // namespace tessera
