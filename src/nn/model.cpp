// The model registry.
#include "nn/model.h"

#include <map>

#include "base/error.h"

namespace tessera {

namespace {
struct Entry {
  InputKind kind;
  ModelFactory factory;
};
std::map<std::string, Entry>& registry() {
  static std::map<std::string, Entry> r;
  return r;
}
const Entry& find(const std::string& name) {
  auto it = registry().find(name);
  if (it == registry().end()) {
    std::string known;
    for (auto& [n, e] : registry()) known += (known.empty() ? "" : ", ") + n;
    fail("unknown model '{}': known models are {}", name, known);
  }
  return it->second;
}
}  // namespace

void register_model(const std::string& name, InputKind kind, ModelFactory factory) {
  registry()[name] = Entry{kind, std::move(factory)};
}

std::unique_ptr<Model> create_model(const std::string& name, const ModelOptions& options) {
  return find(name).factory(options);
}

InputKind model_input_kind(const std::string& name) { return find(name).kind; }

std::vector<std::string> model_names() {
  std::vector<std::string> names;
  for (auto& [n, e] : registry()) names.push_back(n);
  return names;
}

}  // namespace tessera
