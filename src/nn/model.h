// Model: a Module that maps a batch of inputs to class logits, and the registry of named
// models ("gpt-mini", "gpt2-124m", "mlp", "cnn", ...) used by the command line.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nn/module.h"

namespace tessera {

enum class InputKind { Tokens, Images };

struct ModelOptions {
  std::string device = "cpu";
  uint64_t seed = 1337;
  int64_t vocab_size = 0;   // text models: 0 = the preset's own
  int64_t block_size = 0;   // text models: 0 = the preset's own
  float dropout = 0.0f;
};

class Model : public Module {
 public:
  // Tokens: ids (B, T) -> logits (B, T, V). Images: (N, 1, 28, 28) -> logits (N, classes).
  virtual Tensor forward(const Tensor& input) = 0;
  virtual InputKind input_kind() const = 0;
  virtual std::string describe() const = 0;  // one line: name and sizes
  // Forward FLOPs per example (per token for text models), for throughput reports.
  virtual double forward_flops_per_example() const = 0;
  // Draws dropout masks; part of the checkpointed state.
  Generator dropout_gen;
};

using ModelFactory = std::function<std::unique_ptr<Model>(const ModelOptions&)>;
void register_model(const std::string& name, InputKind kind, ModelFactory factory);
// Creates a model by name; an Error lists the known names.
std::unique_ptr<Model> create_model(const std::string& name, const ModelOptions& options);
std::vector<std::string> model_names();
InputKind model_input_kind(const std::string& name);

struct ModelRegistrar {
  ModelRegistrar(const std::string& name, InputKind kind, ModelFactory factory) {
    register_model(name, kind, std::move(factory));
  }
};

}  // namespace tessera
