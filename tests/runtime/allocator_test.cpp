// The HBM allocator: alignment, first fit, fragmentation, coalescing, peak, and the
// out-of-memory message of a device.
#include <gtest/gtest.h>

#include "common/error_text.h"
#include "runtime/device.h"
#include "runtime/hbm_allocator.h"
#include "runtime_test_util.h"

namespace tessera::runtime::test {
namespace {

using tessera::testing::error_text;

TEST(HbmAllocatorTest, BlocksAreAlignedAndSizesRoundedUp) {
  HbmAllocator a(4096);
  int64_t x = *a.allocate(1), y = *a.allocate(300), z = *a.allocate(0);
  EXPECT_EQ(x, 0);
  EXPECT_EQ(y, 256);
  EXPECT_EQ(z, 768);  // 300 bytes take two units
  EXPECT_EQ(a.block_bytes(y), 512);
  EXPECT_EQ(a.bytes_in_use(), 1024);
  for (int64_t addr : {x, y, z}) EXPECT_EQ(addr % HbmAllocator::kAlignment, 0);
}

TEST(HbmAllocatorTest, FirstFitReusesTheFirstHoleLargeEnough) {
  HbmAllocator a(16 * 256);
  int64_t p0 = *a.allocate(256), p1 = *a.allocate(512), p2 = *a.allocate(256), p3 = *a.allocate(1024);
  a.free(p1);  // a 512-byte hole at 256
  a.free(p3);  // and 1024 bytes at 1024, merged with the free tail
  EXPECT_EQ(a.free_blocks(), 2);
  EXPECT_EQ(*a.allocate(768), 1024);  // too large for the first hole
  EXPECT_EQ(*a.allocate(256), 256);   // the first hole, first
  EXPECT_EQ(*a.allocate(256), 512);   // and what is left of it
  EXPECT_EQ(a.free_blocks(), 1);
  EXPECT_EQ(p0, 0);
  EXPECT_EQ(p2, 768);
}

TEST(HbmAllocatorTest, LiveEndIsTheEndOfTheHighestLiveBlock) {
  HbmAllocator a(16 * 256);
  EXPECT_EQ(a.live_end(), 0);
  int64_t p0 = *a.allocate(256), p1 = *a.allocate(300);
  EXPECT_EQ(a.live_end(), 768);
  a.free(p0);  // a hole below does not lower it
  EXPECT_EQ(a.live_end(), 768);
  a.free(p1);
  EXPECT_EQ(a.live_end(), 0);
}

TEST(HbmAllocatorTest, FragmentedMemoryRefusesWhatFitsInTotalButNotInOneBlock) {
  HbmAllocator a(8 * 256);
  std::vector<int64_t> blocks;
  for (int i = 0; i < 8; ++i) blocks.push_back(*a.allocate(256));
  EXPECT_FALSE(a.allocate(1).has_value());
  for (int i = 0; i < 8; i += 2) a.free(blocks[static_cast<size_t>(i)]);  // every other block
  EXPECT_EQ(a.bytes_in_use(), 4 * 256);
  EXPECT_EQ(a.largest_free_block(), 256);
  EXPECT_EQ(a.free_blocks(), 4);
  EXPECT_FALSE(a.allocate(512).has_value());
  EXPECT_TRUE(a.allocate(256).has_value());
}

TEST(HbmAllocatorTest, FreedNeighboursCoalesceInAnyOrder) {
  for (int order = 0; order < 6; ++order) {
    HbmAllocator a(3 * 256);
    std::vector<int64_t> b = {*a.allocate(256), *a.allocate(256), *a.allocate(256)};
    std::vector<size_t> perm = {0, 1, 2};
    for (int i = 0; i < order; ++i) std::next_permutation(perm.begin(), perm.end());
    for (size_t i : perm) a.free(b[i]);
    EXPECT_EQ(a.free_blocks(), 1) << "order " << order;
    EXPECT_EQ(a.largest_free_block(), 3 * 256) << "order " << order;
    EXPECT_EQ(*a.allocate(3 * 256), 0) << "order " << order;
  }
}

TEST(HbmAllocatorTest, PeakIsTheMostInUseAtOnce) {
  HbmAllocator a(1 << 20);
  int64_t x = *a.allocate(1000), y = *a.allocate(5000);
  a.free(x);
  a.free(y);
  EXPECT_EQ(a.bytes_in_use(), 0);
  EXPECT_EQ(a.peak_bytes(), 1024 + 5120);
  a.reset_peak();
  EXPECT_EQ(a.peak_bytes(), 0);
}

TEST(DeviceMemoryTest, OutOfMemoryNamesTheDeviceAndTheSizes) {
  Device device("chip:t1-small", small_t1("1MiB"));
  device.allocate(600'000);
  EXPECT_EQ(error_text([&] { device.allocate(2'100'000); }),
            "device 'chip:t1-small': out of memory: allocating 2.10 MB with 600.06 kB of 1.05 MB in use");
  EXPECT_EQ(device.bytes_in_use(), 600'064);
}

TEST(DeviceMemoryTest, OutOfMemoryInAFragmentedHeapSaysSo) {
  Device device("chip:t1-small", small_t1("1MiB"));
  std::vector<int64_t> blocks;
  for (int i = 0; i < 4; ++i) blocks.push_back(device.allocate(256 * 1024));
  device.free(blocks[0]);
  device.free(blocks[2]);
  EXPECT_EQ(error_text([&] { device.allocate(300'000); }),
            "device 'chip:t1-small': out of memory: allocating 300.00 kB with 524.29 kB of 1.05 MB in use "
            "(fragmented: the largest free block is 262.14 kB)");
  EXPECT_EQ(device.peak_bytes(), 1 << 20);
}

}  // namespace
}  // namespace tessera::runtime::test
