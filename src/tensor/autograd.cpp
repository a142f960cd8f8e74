// The backward pass: a topological walk over the recorded Nodes, accumulating gradients.
#include "tensor/autograd.h"

#include <memory>
#include <unordered_map>
#include <unordered_set>

#include "base/error.h"
#include "tensor/dispatch.h"
#include "tensor/op_helpers.h"
#include "tensor/ops.h"

namespace tessera {

bool needs_grad(std::initializer_list<const Tensor*> inputs) {
  if (!grad_enabled()) return false;
  for (const Tensor* t : inputs)
    if (t->defined() && t->requires_grad()) return true;
  return false;
}

void record_outputs(const std::vector<Tensor>& outputs, const char* op, std::vector<Tensor> inputs,
                    std::function<std::vector<Tensor>(const std::vector<Tensor>&)> backward) {
  if (!grad_enabled()) return;
  bool any = false;
  for (const Tensor& t : inputs) any = any || (t.defined() && t.requires_grad());
  if (!any) return;
  auto node = std::make_shared<Node>();
  node->op = op;
  node->inputs = std::move(inputs);
  node->outputs = static_cast<int>(outputs.size());
  node->backward = std::move(backward);
  for (size_t i = 0; i < outputs.size(); ++i) {
    outputs[i].impl()->grad_fn = node;
    outputs[i].impl()->grad_fn_output = static_cast<int>(i);
    outputs[i].impl()->requires_grad = true;
  }
}

void record(const Tensor& output, const char* op, std::vector<Tensor> inputs,
            std::function<std::vector<Tensor>(const Tensor&)> backward) {
  record_outputs({output}, op, std::move(inputs),
                 [backward = std::move(backward)](const std::vector<Tensor>& grads) { return backward(grads[0]); });
}

namespace {

// Gradients arriving at a tensor are summed; the first one is kept as is (no copy). A running
// sum that no one else can see is added to in place (the same kernel and values as add), so
// that a large gradient, such as an embedding table's, is not held three times: sum, addend
// and new sum.
void accumulate(Tensor& slot, const Tensor& grad) {
  if (!slot.defined()) {
    slot = grad;
  } else if (detail::summable_in_place(slot, grad)) {
    Tensor addend = grad.contiguous();
    kernel_backend(slot, Kernel::Binary).binary(BinaryOp::Add, slot.view(), addend.view(), slot.view());
  } else {
    slot = add(slot, grad);
  }
}

}  // namespace

void run_backward(const Tensor& root, const Tensor& seed) {
  NoGradGuard no_grad;
  if (!root.grad_fn()) {  // a leaf
    Tensor g = root.grad();
    accumulate(g, seed.to(root.dtype()));
    root.set_grad(g);
    return;
  }
  // Post-order DFS gives a topological order (inputs before users); walk it backwards.
  // `order` owns the nodes: clearing a node's inputs below may drop the last other reference
  // to the nodes that produced them, which are still to be visited.
  std::vector<std::shared_ptr<Node>> order;
  std::unordered_set<Node*> seen;
  std::vector<std::pair<std::shared_ptr<Node>, size_t>> stack{{root.grad_fn(), 0}};
  seen.insert(root.grad_fn().get());
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next < node->inputs.size()) {
      const Tensor& input = node->inputs[next++];
      const std::shared_ptr<Node>* child = input.defined() ? &input.grad_fn() : nullptr;
      if (child && *child && seen.insert(child->get()).second) stack.push_back({*child, 0});
    } else {
      order.push_back(std::move(node));
      stack.pop_back();
    }
  }
  // The gradients reaching each node, one slot per output of the node.
  std::unordered_map<Node*, std::vector<Tensor>> grads;
  auto slot = [&grads](const Tensor& t) -> Tensor& {
    std::vector<Tensor>& slots = grads[t.grad_fn().get()];
    slots.resize(static_cast<size_t>(t.grad_fn()->outputs));
    return slots[static_cast<size_t>(t.impl()->grad_fn_output)];
  };
  slot(root) = seed;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* node = it->get();
    auto found = grads.find(node);
    if (found == grads.end()) continue;  // no gradient flows here
    std::vector<Tensor> grad_outputs = std::move(found->second);
    grads.erase(found);
    if (!node->backward)
      fail("backward through '{}' a second time: its saved tensors were already freed", node->op);
    std::vector<Tensor> input_grads = node->backward(grad_outputs);
    node->backward = nullptr;  // frees the saved tensors
    TS_ASSERT(input_grads.size() == node->inputs.size());
    for (size_t i = 0; i < input_grads.size(); ++i) {
      const Tensor& input = node->inputs[i];
      const Tensor& g = input_grads[i];
      if (!g.defined() || !input.defined() || !input.requires_grad()) continue;
      if (g.shape() != input.shape())
        fail("internal: gradient of '{}' input {} has shape {}, expected {}", node->op, i,
             shape_str(g.shape()), shape_str(input.shape()));
      // A gradient has its tensor's dtype (as in PyTorch): the bf16 output of an autocast
      // Linear receives a bf16 gradient even when the residual stream it joins is f32.
      Tensor typed = g.dtype() == input.dtype() ? g : g.to(input.dtype());
      if (input.grad_fn()) {
        accumulate(slot(input), typed);
      } else {
        Tensor leaf = input.grad();
        input.set_grad(Tensor());  // leaves `leaf` the only handle, for an in-place sum
        accumulate(leaf, typed);
        input.set_grad(leaf);
      }
    }
    node->inputs.clear();  // lets activations die as soon as they are no longer needed
  }
}

}  // namespace tessera
