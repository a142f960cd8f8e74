// Helpers for arch tests: chip files written to a fresh folder, and error-text expectations.
#pragma once
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include "base/error.h"
#include "common/error_text.h"

namespace tessera::arch::testing {

// Writes `text` to <build>/test_tmp/arch/<process id>/<name> and returns its path. Each process
// has its own folder, emptied when first used: ctest runs test cases as parallel processes.
inline std::string write_chip_file(const std::string& name, const std::string& text) {
  static const std::filesystem::path dir = [] {
    std::filesystem::path path =
        std::filesystem::path(TESSERA_BINARY_DIR) / "test_tmp" / "arch" / std::to_string(getpid());
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
    return path;
  }();
  std::filesystem::path path = dir / name;
  std::ofstream(path) << text;
  return path.string();
}

using tessera::testing::error_text;

inline std::string presets_dir() { return TESSERA_SOURCE_DIR "/configs/chips"; }

}  // namespace tessera::arch::testing
