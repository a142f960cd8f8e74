// Module: a named tree of parameters and sub-modules, as in PyTorch. Parameter names are the
// dotted paths used in checkpoints ("h.0.attn.c_attn.weight").
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace tessera {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Module {
 public:
  virtual ~Module() = default;
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Every parameter of this module and its children, in registration order.
  NamedTensors named_parameters() const;
  std::vector<Tensor> parameters() const;
  int64_t parameter_count() const;
  // Training mode (dropout active) or evaluation mode, recursively.
  void train(bool training = true);
  bool training() const { return training_; }
  void zero_grad() const;

 protected:
  // Registers a parameter (requires_grad is set) and returns it.
  Tensor register_parameter(const std::string& name, Tensor value);
  template <typename M>
  M& register_module(const std::string& name, std::unique_ptr<M> module) {
    M& ref = *module;
    children_.emplace_back(name, std::move(module));
    return ref;
  }

 private:
  void collect(const std::string& prefix, NamedTensors& out) const;
  NamedTensors params_;
  std::vector<std::pair<std::string, std::unique_ptr<Module>>> children_;
  bool training_ = true;
};

}  // namespace tessera
