// The host block cache's policy: a repeated allocation sequence (a training step) is served
// without new system blocks after its first round, the bytes kept in memory stay within a
// quarter above the live peak (the other idle blocks give their pages back), and every block
// handed out is zeroed, whether it kept its pages or not.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <vector>

#include "backends/cpu/host_block_cache.h"

namespace tessera::test {
namespace {

constexpr size_t kMiB = 1 << 20;

// True when every byte of the block reads zero.
bool all_zero(const std::shared_ptr<void>& block, size_t bytes) {
  const auto* p = static_cast<const unsigned char*>(block.get());
  for (size_t i = 0; i < bytes; ++i)
    if (p[i] != 0) return false;
  return true;
}

// Pages of [p, p + bytes) that are in memory.
size_t resident_pages(void* p, size_t bytes) {
  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> in_core((bytes + page - 1) / page);
  EXPECT_EQ(mincore(p, bytes, in_core.data()), 0);
  size_t count = 0;
  for (unsigned char c : in_core) count += c & 1;
  return count;
}

// One "step": blocks of distinct sizes, each filled and freed before the next is asked for,
// so that one block at a time is live while every size stays idle in the cache.
void run_step(HostBlockCache& cache, const std::vector<size_t>& sizes) {
  for (size_t bytes : sizes) {
    std::shared_ptr<void> block = cache.allocate(bytes, "cpu");
    EXPECT_TRUE(all_zero(block, bytes)) << bytes << " bytes handed out not zeroed";
    std::memset(block.get(), 0x5a, bytes);
  }
}

TEST(HostBlockCache, RepeatedStepNeedsNoNewSystemBlocks) {
  auto cache = std::make_shared<HostBlockCache>();
  std::vector<size_t> sizes = {6 * kMiB, 256 << 10, 9 * kMiB, 5 * kMiB, 6 * kMiB, 100 << 10};
  std::vector<std::shared_ptr<void>> held;
  for (size_t bytes : sizes) held.push_back(cache->allocate(bytes, "cpu"));  // all live at once
  held.clear();
  size_t after_first = cache->usage().system_allocations;
  EXPECT_EQ(after_first, sizes.size());
  for (int round = 0; round < 3; ++round) {
    for (size_t bytes : sizes) held.push_back(cache->allocate(bytes, "cpu"));
    held.clear();
  }
  EXPECT_EQ(cache->usage().system_allocations, after_first);
  EXPECT_EQ(cache->usage().live_bytes, 0u);
}

TEST(HostBlockCache, BytesInMemoryStayWithinAQuarterAboveTheLivePeak) {
  auto cache = std::make_shared<HostBlockCache>();
  std::vector<size_t> sizes;
  for (size_t mib = 4; mib <= 16; ++mib) sizes.push_back(mib * kMiB);  // 130 MiB in all
  run_step(*cache, sizes);
  size_t after_first = cache->usage().system_allocations;
  for (int round = 0; round < 3; ++round) run_step(*cache, sizes);
  HostBlockCache::Usage usage = cache->usage();
  EXPECT_EQ(usage.system_allocations, after_first);  // the blocks are kept, only their pages go
  EXPECT_EQ(usage.live_peak_bytes, 16 * kMiB);
  EXPECT_LE(usage.resident_bytes, 20 * kMiB);
  EXPECT_EQ(usage.idle_bytes, 130 * kMiB);
}

TEST(HostBlockCache, ReleasedBlocksLeaveMemoryAndComeBackZeroed) {
  auto cache = std::make_shared<HostBlockCache>();
  std::shared_ptr<void> big = cache->allocate(8 * kMiB, "cpu");
  std::shared_ptr<void> small = cache->allocate(4 * kMiB, "cpu");
  std::memset(big.get(), 1, 8 * kMiB);
  std::memset(small.get(), 1, 4 * kMiB);
  void* big_address = big.get();
  void* small_address = small.get();
  small.reset();
  big.reset();  // freed last
  // Live peak 12 MiB, so at most 15 MiB stay in memory: a 6 MiB block makes 18 MiB and the
  // most recently freed block gives its pages back.
  std::shared_ptr<void> other = cache->allocate(6 * kMiB, "cpu");
  EXPECT_EQ(resident_pages(big_address, 8 * kMiB), 0u);
  EXPECT_EQ(cache->usage().resident_bytes, 10 * kMiB);
  std::shared_ptr<void> again = cache->allocate(8 * kMiB, "cpu");
  EXPECT_EQ(again.get(), big_address);
  EXPECT_TRUE(all_zero(again, 8 * kMiB));
  EXPECT_EQ(resident_pages(small_address, 4 * kMiB), 0u);  // now the newest idle block
  EXPECT_EQ(cache->usage().resident_bytes, 14 * kMiB);
  EXPECT_EQ(cache->usage().system_allocations, 3u);
}

}  // namespace
}  // namespace tessera::test
