// Shapes: element counts, strides, printing and numpy-style broadcasting.
#include "base/shape.h"

#include <gtest/gtest.h>

#include "base/error.h"

namespace tessera {
namespace {

TEST(Shape, NumelStridesAndPrinting) {
  EXPECT_EQ(numel({4, 64, 768}), 4 * 64 * 768);
  EXPECT_EQ(numel({}), 1);  // a scalar
  EXPECT_EQ(numel({3, 0, 2}), 0);
  EXPECT_EQ(contiguous_strides({4, 64, 768}), (Strides{64 * 768, 768, 1}));
  EXPECT_EQ(contiguous_strides({}), Strides{});
  EXPECT_EQ(shape_str({4, 64, 768}), "(4, 64, 768)");
  EXPECT_EQ(shape_str({3}), "(3,)");
  EXPECT_EQ(shape_str({}), "()");
}

TEST(Shape, BroadcastFollowsNumpyRules) {
  EXPECT_EQ(broadcast_shapes({4, 1, 3}, {5, 1}, "add"), (Shape{4, 5, 3}));
  EXPECT_EQ(broadcast_shapes({}, {2, 3}, "add"), (Shape{2, 3}));
  EXPECT_EQ(broadcast_shapes({2, 3}, {2, 3}, "mul"), (Shape{2, 3}));
  EXPECT_EQ(broadcast_shapes({1}, {0}, "mul"), (Shape{0}));
}

TEST(Shape, BroadcastErrorNamesOpAndBothShapes) {
  try {
    broadcast_shapes({4, 3}, {2, 3}, "add");
    FAIL() << "(4, 3) and (2, 3) were broadcast";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "add: shapes (4, 3) and (2, 3) cannot be broadcast together");
  }
  EXPECT_THROW(broadcast_shapes({3}, {4, 2}, "mul"), Error);
}

TEST(Shape, BroadcastStridesZeroOnExpandedDims) {
  // (3, 1) with strides (1, 1) read as (2, 3, 4): new leading dim and the size-1 dim get 0.
  EXPECT_EQ(broadcast_strides({3, 1}, {1, 1}, {2, 3, 4}), (Strides{0, 1, 0}));
  EXPECT_EQ(broadcast_strides({2, 3}, {3, 1}, {2, 3}), (Strides{3, 1}));
  // A size-1 dim that stays size 1 keeps its stride.
  EXPECT_EQ(broadcast_strides({1, 4}, {4, 1}, {1, 4}), (Strides{4, 1}));
}

}  // namespace
}  // namespace tessera
