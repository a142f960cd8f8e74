// Chip files: YAML maps whose nested keys spell the dotted parameter keys of chip_params.h.
#include "arch/chip_loader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "arch/chip_params.h"
#include "arch/chip_validate.h"
#include "base/atomic_file.h"
#include "base/error.h"

namespace tessera::arch {

namespace {

// The keys under `section` ("hbm" -> "hbm.capacity, hbm.bandwidth, ..."), or "" when `section`
// is not a section.
std::string section_keys(const std::string& section) {
  std::string keys;
  for (const ParamSpec& spec : chip_params()) {
    if (spec.key.starts_with(section + ".")) keys += (keys.empty() ? "" : ", ") + spec.key;
  }
  return keys;
}

class ChipFileReader {
 public:
  ChipFileReader(const std::string& path, ChipSpec& chip) : path_(path), chip_(chip) {}

  void read_map(const YAML::Node& map, const std::string& prefix) {
    for (const auto& entry : map) {
      std::string key = prefix + entry.first.as<std::string>("");
      read_entry(key, entry.first.Mark().line + 1, entry.second);
    }
  }

 private:
  void read_entry(const std::string& key, int line, const YAML::Node& value) {
    std::string place = fmt::format("{}:{}", path_, line);
    auto [first, inserted] = lines_.emplace(key, line);
    if (!inserted) fail("{}: {} is set twice (first on line {})", place, key, first->second);
    const ParamSpec* spec = find_param(key);
    bool is_param = spec != nullptr;
    if (value.IsMap()) {
      if (is_param) fail("{}: {}: expected a value, got a map", place, key);
      read_map(value, key + ".");
      return;
    }
    if (!is_param && !section_keys(key).empty()) {
      fail("{}: {} is a section ({}), not a value", place, key, section_keys(key));
    }
    if (value.IsNull()) {
      if (!is_param) fail("{}: unknown key '{}' (did you mean '{}'?)", place, key, closest_param(key));
      fail("{}: {}: has no value", place, key);
    }
    if (is_param && value.IsSequence() && spec->type != ParamType::word_list) {
      fail("{}: {}: expected a single value, got a list", place, key);
    }
    set_param(chip_, key, value_text(place, key, value), place);
  }

  // A scalar as written, or a sequence of scalars as "a,b,c".
  static std::string value_text(const std::string& place, const std::string& key, const YAML::Node& value) {
    if (value.IsScalar()) return value.Scalar();
    std::string text;
    for (const YAML::Node& item : value) {
      if (!item.IsScalar()) fail("{}: {}: expected a list of words", place, key);
      text += (text.empty() ? "" : ",") + item.Scalar();
    }
    return text;
  }

  const std::string& path_;
  ChipSpec& chip_;
  std::map<std::string, int> lines_;  // key -> line where it was set
};

}  // namespace

std::string default_chips_dir() { return TESSERA_SOURCE_DIR "/configs/chips"; }

std::vector<std::string> preset_names(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    if (entry.path().extension() == ".yaml") names.push_back(entry.path().stem().string());
  }
  if (error) fail("chip presets: cannot list {}: {}", dir, error.message());
  std::sort(names.begin(), names.end());
  return names;
}

ChipSpec load_chip_file(const std::string& path, std::span<const std::string> overrides) {
  std::string text = read_file_bytes(path);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& error) {
    fail("{}:{}:{}: malformed YAML: {}", path, error.mark.line + 1, error.mark.column + 1, error.msg);
  }
  if (!root.IsMap()) fail("{}: expected a map of chip parameters (see `tessera chips --params`)", path);
  ChipSpec chip = default_chip();
  chip.source = path;
  ChipFileReader(path, chip).read_map(root, "");
  for (const std::string& assignment : overrides) apply_override(chip, assignment);
  validate_chip(chip);
  return chip;
}

ChipSpec load_chip(std::string_view name_or_path, std::span<const std::string> overrides, const std::string& dir) {
  if (name_or_path.find('/') != std::string_view::npos || name_or_path.ends_with(".yaml")) {
    return load_chip_file(std::string(name_or_path), overrides);
  }
  std::vector<std::string> names = preset_names(dir);
  if (std::find(names.begin(), names.end(), name_or_path) == names.end()) {
    std::string list;
    for (const std::string& name : names) list += (list.empty() ? "" : ", ") + name;
    fail("unknown chip '{}'; presets: {}", name_or_path, list);
  }
  return load_chip_file(fmt::format("{}/{}.yaml", dir, name_or_path), overrides);
}

}  // namespace tessera::arch
