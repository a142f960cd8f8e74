// Mixed precision: while an AutocastGuard for bf16 is alive, matrix products (Linear,
// attention, conv2d) run on bf16 copies of their inputs, weights and biases (fp32 accumulation)
// and give bf16 outputs, so what follows them (GELU, attention, their backward products) runs
// in bf16 too; parameters, layer norms, residual sums (f32 + bf16 -> f32), softmax and the
// loss stay fp32 (fp32 master weights).
#pragma once
#include "base/dtype.h"

namespace tessera {

DType autocast_dtype();  // F32 when autocast is off

class AutocastGuard {
 public:
  explicit AutocastGuard(DType dtype);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  DType previous_;
};

}  // namespace tessera
