// Helpers for data tests: a fresh temporary folder per test, and raw file writers.
#pragma once
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace tessera::testing {

// A folder under the build tree, emptied when created.
inline std::filesystem::path fresh_dir(const std::string& name) {
  std::filesystem::path dir = std::filesystem::path(TESSERA_BINARY_DIR) / "test_tmp" / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

inline void write_bytes(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Expects `statement` to throw tessera::Error whose message contains every one of `parts`.
#define EXPECT_ERROR_WITH(statement, ...)                                  \
  do {                                                                     \
    try {                                                                  \
      statement;                                                           \
      ADD_FAILURE() << "expected tessera::Error from " #statement;         \
    } catch (const ::tessera::Error& error) {                              \
      for (const char* part : {__VA_ARGS__}) {                             \
        EXPECT_NE(std::string(error.what()).find(part), std::string::npos) \
            << "message '" << error.what() << "' lacks '" << part << "'";  \
      }                                                                    \
    }                                                                      \
  } while (0)

}  // namespace tessera::testing
