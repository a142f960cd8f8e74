// The backend registry and kernel names.
#include "backends/backend.h"

#include <map>
#include <mutex>

#include "base/error.h"

namespace tessera {

namespace {
struct Registry {
  std::mutex mutex;
  std::map<std::string, BackendFactory> factories;
  std::map<std::string, std::unique_ptr<Backend>> instances;
};
Registry& registry() {
  static Registry r;
  return r;
}
}  // namespace

const char* kernel_name(Kernel kernel) {
  static const char* names[] = {
      "copy", "fill", "binary", "unary", "unary_backward", "affine", "reduce", "reduce_max",
      "scatter_along", "softmax", "softmax_backward", "log_softmax", "log_softmax_backward",
      "cross_entropy", "cross_entropy_backward", "layer_norm", "layer_norm_backward", "embedding",
      "embedding_backward", "attention", "attention_backward", "matmul", "conv2d",
      "conv2d_backward", "max_pool2d", "max_pool2d_backward", "dropout_mask", "adamw",
      "sgd_momentum", "sum_squares", "bias_gelu", "bias_gelu_backward", "add_layer_norm",
      "add_layer_norm_backward", "sum_squares_many", "scale_many", "adamw_many"};
  static_assert(sizeof(names) / sizeof(names[0]) == static_cast<size_t>(Kernel::Count));
  return names[static_cast<size_t>(kernel)];
}

void register_backend(const std::string& name, BackendFactory factory) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  TS_ASSERT(!r.factories.count(name));
  r.factories[name] = std::move(factory);
}

Backend& backend(const std::string& name) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  auto it = r.instances.find(name);
  if (it != r.instances.end()) return *it->second;
  auto factory = r.factories.find(name);
  if (factory == r.factories.end()) {
    std::string known;
    for (auto& [n, f] : r.factories) known += (known.empty() ? "" : ", ") + n;
    fail("unknown device '{}': the registered backends are {}", name, known);
  }
  return *(r.instances[name] = factory->second());
}

std::vector<std::string> backend_names() {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  std::vector<std::string> names;
  for (auto& [n, f] : r.factories) names.push_back(n);
  return names;
}

std::vector<std::string> computing_backend_names() {
  std::vector<std::string> names;
  for (const std::string& name : backend_names())
    if (backend(name).computes_values()) names.push_back(name);
  return names;
}

}  // namespace tessera
