// A training step (bf16 autocast forward, cross-entropy, backward, AdamW) of a registered
// model on the recording backend, in strict dispatch mode so that no kernel falls back to the
// CPU; returns the kernels it logged.
#pragma once
#include <string>
#include <vector>

#include "backends/record/record_backend.h"
#include "nn/autocast.h"
#include "nn/model.h"
#include "nn/optimizer.h"
#include "tensor/dispatch.h"
#include "tensor/ops.h"

namespace tessera::test {

inline std::vector<KernelCall> record_gpt_step(const std::string& model_name, int64_t batch, int64_t seq) {
  ModelOptions options;
  options.device = "record";
  std::unique_ptr<Model> model = create_model(model_name, options);
  AdamW optimizer(model->named_parameters(), AdamWOptions{});
  Tensor ids = Tensor::zeros({batch, seq}, DType::I64, "record");
  Tensor targets = Tensor::zeros({batch * seq}, DType::I64, "record");
  RecordBackend& device = record_backend();
  device.clear_log();
  set_strict_dispatch(true);
  {
    AutocastGuard autocast(DType::BF16);
    Tensor logits = model->forward(ids);
    Tensor loss = cross_entropy(cast(reshape(logits, {-1, logits.size(-1)}), DType::F32), targets);
    loss.backward();
  }
  optimizer.step();
  set_strict_dispatch(false);
  std::vector<KernelCall> log = device.log();
  device.clear_log();
  return log;
}

}  // namespace tessera::test
