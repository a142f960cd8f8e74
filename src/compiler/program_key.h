// Keys of cached programs (program_cache.h): the bytes of every argument a program builder
// reads, written one field at a time (so that no padding enters a key). Each builder's key
// function stands beside it and checks with field_count that its argument struct has no field
// it does not name.
#pragma once
#include <cstddef>
#include <string>
#include <type_traits>
#include <vector>

namespace tessera::compiler {

class ProgramKey {
 public:
  template <typename T>
    requires std::is_trivially_copyable_v<T>
  ProgramKey& operator<<(const T& value) {
    bytes_.append(reinterpret_cast<const char*>(&value), sizeof(T));
    return *this;
  }
  // A vector: its length, then its elements.
  template <typename T>
  ProgramKey& operator<<(const std::vector<T>& values) {
    *this << values.size();
    for (const T& v : values) *this << v;
    return *this;
  }
  std::string take() { return std::move(bytes_); }

 private:
  std::string bytes_;
};

namespace detail {
// Converts to any member type, for counting an aggregate's fields (never called).
struct AnyField {
  template <typename T>
  operator T() const;
};
}  // namespace detail

// The number of fields of the aggregate T (a nested struct counts as one): the most
// initializers T{...} accepts.
template <typename T, typename... Fields>
constexpr size_t field_count() {
  if constexpr (requires { T{Fields{}..., detail::AnyField{}}; })
    return field_count<T, Fields..., detail::AnyField>();
  else
    return sizeof...(Fields);
}

}  // namespace tessera::compiler
