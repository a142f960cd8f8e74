// Shapes and strides (in elements), and helpers to print and combine them.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tessera {

using Shape = std::vector<int64_t>;
using Strides = std::vector<int64_t>;

int64_t numel(const Shape& shape);
Strides contiguous_strides(const Shape& shape);
std::string shape_str(const Shape& shape);  // "(4, 64, 768)"
// The broadcast of two shapes (numpy rules) or an Error naming `op` and both shapes.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
// Strides to read a tensor of `shape`/`strides` as if it had shape `target` (0 on broadcast dims).
Strides broadcast_strides(const Shape& shape, const Strides& strides, const Shape& target);

}  // namespace tessera
