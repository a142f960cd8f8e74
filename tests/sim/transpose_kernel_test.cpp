// vtranspose's host kernel (sim/transpose_kernel.h) against the definition, element by
// element, for every element size and shapes around its 16- and 32-row blocks (full blocks,
// edges, fewer rows or columns than a block), with guard bytes after the output.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "base/random.h"
#include "sim/transpose_kernel.h"

namespace tessera::sim {
namespace {

TEST(TransposeKernel, EqualsTheDefinitionForEveryElementSizeAndShape) {
  const std::vector<int64_t> sizes = {1, 2, 7, 15, 16, 17, 31, 32, 33, 48, 64, 65, 100};
  constexpr size_t kGuard = 64;
  for (int64_t element : {1, 2, 4, 8})
    for (int64_t rows : sizes)
      for (int64_t cols : sizes) {
        size_t bytes = static_cast<size_t>(rows * cols * element);
        std::vector<uint8_t> src(bytes), want(bytes + kGuard, 0xa5), got(bytes + kGuard, 0xa5);
        for (size_t b = 0; b < bytes; ++b) src[b] = static_cast<uint8_t>(random_bits(7, b));
        for (int64_t i = 0; i < rows; ++i)
          for (int64_t j = 0; j < cols; ++j)
            std::memcpy(&want[static_cast<size_t>((j * rows + i) * element)],
                        &src[static_cast<size_t>((i * cols + j) * element)], static_cast<size_t>(element));
        transpose_elements(got.data(), src.data(), rows, cols, element);
        ASSERT_EQ(got, want) << element << "-byte elements, " << rows << " x " << cols;
      }
}

}  // namespace
}  // namespace tessera::sim
