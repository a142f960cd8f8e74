// Reverse-mode autograd: each op that has inputs requiring gradients records a Node holding
// its inputs and a closure computing their gradients from the output's gradient.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace tessera {

struct Node {
  std::string op;              // for error messages and debugging
  std::vector<Tensor> inputs;  // the op's inputs (those not requiring grad get no gradient)
  int outputs = 1;             // the op's outputs that carry this node
  // Returns one gradient per input (undefined for inputs without one) from one gradient per
  // output (undefined for an output no gradient reached). Released after use, so that the
  // tensors it saved are freed as soon as the backward pass has passed this node.
  std::function<std::vector<Tensor>(const std::vector<Tensor>& grad_outputs)> backward;
};

// Attaches a Node to `output` when grad mode is on and any input requires a gradient.
// The closure must not capture `output` itself (use output.detach()), to avoid a cycle.
void record(const Tensor& output, const char* op, std::vector<Tensor> inputs,
            std::function<std::vector<Tensor>(const Tensor& grad_output)> backward);

// As record, for an op with several outputs: one Node for all of them, whose closure receives
// the gradient of each output (so that gradients meeting at the op are combined by its kernel).
void record_outputs(const std::vector<Tensor>& outputs, const char* op, std::vector<Tensor> inputs,
                    std::function<std::vector<Tensor>(const std::vector<Tensor>& grad_outputs)> backward);

// True when recording is needed for these inputs.
bool needs_grad(std::initializer_list<const Tensor*> inputs);

// Runs the backward pass from `root` with gradient `seed`, accumulating into the leaves' grad.
void run_backward(const Tensor& root, const Tensor& seed);

}  // namespace tessera
