// Checkpoints in safetensors files (see checkpoint.h).
#include "train/checkpoint.h"

#include <algorithm>
#include <functional>
#include <set>
#include <filesystem>
#include <fmt/format.h>

#include "base/atomic_file.h"
#include "base/error.h"
#include "data/safetensors.h"

namespace fs = std::filesystem;

namespace tessera {

namespace {

constexpr const char* kTrainerFormat = "tessera-trainer";
constexpr const char* kTrainerVersion = "1";

StoredTensor to_stored(const std::string& name, const Tensor& t) {
  Tensor c = t.contiguous();
  StoredTensor s;
  s.name = name;
  s.dtype = c.dtype();
  s.shape = c.shape();
  s.bytes.resize(c.nbytes());
  c.backend().copy_to_host(s.bytes.data(), c.view().data, s.bytes.size());
  return s;
}

// Copies stored values into `target` (same shape; float dtypes are converted).
void copy_into(const StoredTensor& s, const Tensor& target) {
  std::vector<uint8_t> host(target.nbytes());
  convert_elements(s.bytes.data(), s.dtype, host.data(), target.dtype(), static_cast<size_t>(target.numel()));
  target.backend().copy_from_host(target.view().data, host.data(), host.size());
}

// Pairs every destination tensor with its stored tensor, checking names, shapes and dtypes
// first; nothing is copied unless everything matches. `alias` maps a destination name to
// the name accepted in the file; `ignorable` says which extra names in the file to skip.
void load_named(const std::string& path, const SafetensorsFile& file, const NamedTensors& targets,
                const std::function<std::vector<std::string>(const std::string&)>& aliases,
                const std::function<bool(const std::string&)>& ignorable) {
  std::vector<const StoredTensor*> sources;
  std::set<std::string> used;
  for (const auto& [name, target] : targets) {
    const StoredTensor* found = nullptr;
    for (const std::string& candidate : aliases(name))
      if ((found = file.find(candidate))) break;
    if (!found) fail("{}: tensor '{}' is missing", path, name);
    if (found->shape != target.shape())
      fail("{}: tensor '{}' has shape {}, the model needs {}", path, found->name, shape_str(found->shape),
           shape_str(target.shape()));
    if (!is_floating(found->dtype) && is_floating(target.dtype()))
      fail("{}: tensor '{}' has dtype {}, expected a floating-point dtype", path, found->name, dtype_name(found->dtype));
    used.insert(found->name);
    sources.push_back(found);
  }
  for (const StoredTensor& s : file.tensors)
    if (!used.count(s.name) && !ignorable(s.name)) fail("{}: unexpected tensor '{}' (not a parameter of the model)", path, s.name);
  NoGradGuard no_grad;
  for (size_t i = 0; i < targets.size(); ++i) copy_into(*sources[i], targets[i].second);
}

std::string step_folder_name(int64_t step) { return fmt::format("step-{:08}", step); }

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

void save_weights(const std::string& path, const Model& model) {
  SafetensorsFile file;
  for (const auto& [name, t] : model.named_parameters()) file.tensors.push_back(to_stored(name, t));
  file.metadata["format"] = "pt";
  write_safetensors(path, file);
}

void load_weights(const std::string& path, Model& model) {
  SafetensorsFile file = read_safetensors(path);
  load_named(
      path, file, model.named_parameters(),
      [](const std::string& name) { return std::vector<std::string>{name, "transformer." + name}; },
      [](const std::string& name) {
        return name == "lm_head.weight" || ends_with(name, ".attn.bias") || ends_with(name, ".attn.masked_bias");
      });
}

std::string save_checkpoint(const std::string& dir, int64_t step, const Model& model, const Optimizer& optimizer,
                            const nlohmann::json& trainer_state) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail("checkpoint directory '{}' cannot be created: {}", dir, ec.message());
  std::string name = step_folder_name(step);
  std::string folder = dir + "/" + name, staging = folder + ".partial";
  fs::remove_all(staging, ec);
  fs::create_directories(staging, ec);
  if (ec) fail("checkpoint folder '{}' cannot be created: {}", staging, ec.message());
  save_weights(staging + "/model.safetensors", model);
  SafetensorsFile trainer;
  for (const auto& [state_name, t] : optimizer.state()) trainer.tensors.push_back(to_stored(state_name, t));
  trainer.metadata["format"] = kTrainerFormat;
  trainer.metadata["version"] = kTrainerVersion;
  trainer.metadata["state"] = trainer_state.dump();
  write_safetensors(staging + "/trainer.safetensors", trainer);
  fs::remove_all(folder, ec);
  fs::rename(staging, folder, ec);
  if (ec) fail("checkpoint folder '{}' cannot be renamed to '{}': {}", staging, folder, ec.message());
  write_file_atomic(dir + "/latest", name + "\n");
  // Keep the two most recent checkpoints.
  std::vector<std::string> steps;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_directory() && entry.path().filename().string().rfind("step-", 0) == 0 &&
        !ends_with(entry.path().filename().string(), ".partial"))
      steps.push_back(entry.path().filename().string());
  std::sort(steps.begin(), steps.end());
  for (size_t i = 0; i + 2 < steps.size(); ++i)
    if (steps[i] != name) fs::remove_all(dir + "/" + steps[i], ec);
  return folder;
}

std::optional<std::string> latest_checkpoint(const std::string& dir) {
  std::string pointer = dir + "/latest";
  if (!fs::exists(pointer)) return std::nullopt;
  std::string name = read_file_bytes(pointer);
  while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) name.pop_back();
  if (name.rfind("step-", 0) != 0 || name.find('/') != std::string::npos)
    fail("{}: does not name a checkpoint folder (found '{}')", pointer, name);
  std::string folder = dir + "/" + name;
  if (!fs::is_directory(folder)) fail("{}: names '{}', which does not exist", pointer, folder);
  return folder;
}

nlohmann::json read_trainer_state(const std::string& folder) {
  std::string path = folder + "/trainer.safetensors";
  SafetensorsFile file = read_safetensors(path);
  auto format = file.metadata.find("format");
  auto version = file.metadata.find("version");
  auto state = file.metadata.find("state");
  if (format == file.metadata.end() || format->second != kTrainerFormat || state == file.metadata.end())
    fail("{}: not a Tessera trainer state (metadata 'format' must be '{}' with a 'state')", path, kTrainerFormat);
  if (version == file.metadata.end() || version->second != kTrainerVersion)
    fail("{}: trainer state version '{}' is not supported (expected {})", path,
         version == file.metadata.end() ? "" : version->second, kTrainerVersion);
  nlohmann::json json = nlohmann::json::parse(state->second, nullptr, false);
  if (json.is_discarded() || !json.is_object() || !json.contains("step") || !json.contains("model"))
    fail("{}: the 'state' metadata is not a valid trainer state", path);
  return json;
}

void load_checkpoint(const std::string& folder, Model& model, Optimizer* optimizer) {
  std::string model_path = folder + "/model.safetensors";
  SafetensorsFile weights = read_safetensors(model_path);
  std::optional<SafetensorsFile> trainer;
  std::string trainer_path = folder + "/trainer.safetensors";
  if (optimizer) trainer = read_safetensors(trainer_path);
  auto exact = [](const std::string& name) { return std::vector<std::string>{name}; };
  auto nothing = [](const std::string&) { return false; };
  // Validate both files before copying anything from either.
  if (optimizer) {
    NamedTensors state = optimizer->state();
    for (const auto& [name, t] : state) {
      const StoredTensor* s = trainer->find(name);
      if (!s) fail("{}: tensor '{}' is missing", trainer_path, name);
      if (s->shape != t.shape())
        fail("{}: tensor '{}' has shape {}, expected {}", trainer_path, name, shape_str(s->shape), shape_str(t.shape()));
    }
  }
  load_named(model_path, weights, model.named_parameters(), exact, nothing);
  if (optimizer) load_named(trainer_path, *trainer, optimizer->state(), exact, nothing);
}

}  // namespace tessera
