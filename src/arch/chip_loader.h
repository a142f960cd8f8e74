// Reading chips: YAML files, the presets in configs/chips, and `--set` overrides on top.
#pragma once
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "arch/chip.h"

namespace tessera::arch {

// <repository>/configs/chips: one <name>.yaml per preset.
std::string default_chips_dir();

// The preset names (file stems of *.yaml in `dir`), sorted.
std::vector<std::string> preset_names(const std::string& dir = default_chips_dir());

// Reads a chip file, applies the "key=value" overrides in order, and validates the result.
// Errors name the file, the line and the key: "<file>:<line>: <key>: <what is wrong>".
ChipSpec load_chip_file(const std::string& path, std::span<const std::string> overrides = {});

// A preset by name (<dir>/<name>.yaml) or, when the text contains '/' or ends in ".yaml", a
// file. An unknown name gives an Error listing the presets.
ChipSpec load_chip(std::string_view name_or_path, std::span<const std::string> overrides = {},
                   const std::string& dir = default_chips_dir());

}  // namespace tessera::arch
