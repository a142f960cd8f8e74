// A GoogleTest parameter name for a backend name: "cpu-ref" -> "cpu_ref", "chip:t1" -> "chip_t1"
// (parameter names are alphanumeric or '_').
#pragma once
#include <gtest/gtest.h>

#include <cctype>
#include <string>

namespace tessera::testing {

inline std::string backend_test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

}  // namespace tessera::testing
