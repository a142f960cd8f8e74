// Choosing the backend that runs a kernel: the tensor's own device when it supports the
// (kernel, dtype) pair; otherwise an explicit, logged fallback to the CPU backend, which strict
// mode (used by the tests of every device) turns into an error.
#pragma once
#include "backends/backend.h"
#include "tensor/tensor.h"

namespace tessera {

void set_strict_dispatch(bool strict);
bool strict_dispatch();

// The backend to run `kernel` on for `t` (its device, or the logged CPU fallback).
Backend& kernel_backend(const Tensor& t, Kernel kernel);

// Error unless every defined tensor lives on the same device as the first; names the op.
void check_same_device(const char* op, std::initializer_list<const Tensor*> tensors);

}  // namespace tessera
