// Capturing the message of a tessera::Error, for tests that check error text.
#pragma once
#include <gtest/gtest.h>

#include <string>

#include "base/error.h"

namespace tessera::testing {

// The message of the tessera::Error that `action` throws, or "" (and a test failure) if none.
template <typename Action>
std::string error_text(Action action) {
  try {
    action();
  } catch (const Error& error) {
    return error.what();
  }
  ADD_FAILURE() << "expected a tessera::Error";
  return "";
}

}  // namespace tessera::testing
