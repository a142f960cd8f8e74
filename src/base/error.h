// User-facing errors: a one-line message naming the input, the place and what is wrong.
// Internal invariants use TS_ASSERT (a bug in Tessera, not in the user's input).
#pragma once
#include <fmt/format.h>
#include <stdexcept>
#include <string>

namespace tessera {

// An error caused by the user's input (a file, an option, a shape). Caught by the CLI,
// printed as one line, exit code 1.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

[[noreturn]] void internal_failure(const char* condition, const char* file, int line);

}  // namespace tessera

#define TS_ASSERT(cond) \
  ((cond) ? (void)0 : ::tessera::internal_failure(#cond, __FILE__, __LINE__))
