// Levenshtein distance, for "did you mean ...?" suggestions in error messages.
#pragma once
#include <cstddef>
#include <string_view>

namespace tessera {

size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace tessera
