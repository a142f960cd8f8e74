// First-fit allocation with coalescing (see hbm_allocator.h).
#include "runtime/hbm_allocator.h"

#include <algorithm>

#include "base/error.h"

namespace tessera::runtime {

HbmAllocator::HbmAllocator(int64_t capacity_bytes) : capacity_bytes_(capacity_bytes / kAlignment * kAlignment) {
  if (capacity_bytes_ > 0) free_[0] = capacity_bytes_;
}

std::optional<int64_t> HbmAllocator::allocate(int64_t bytes) {
  TS_ASSERT(bytes >= 0);
  int64_t size = std::max<int64_t>(1, (bytes + kAlignment - 1) / kAlignment) * kAlignment;
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    if (it->second < size) continue;
    int64_t addr = it->first, left = it->second - size;
    free_.erase(it);
    if (left > 0) free_[addr + size] = left;
    live_[addr] = size;
    in_use_bytes_ += size;
    peak_bytes_ = std::max(peak_bytes_, in_use_bytes_);
    return addr;
  }
  return std::nullopt;
}

void HbmAllocator::free(int64_t addr) {
  auto live = live_.find(addr);
  TS_ASSERT(live != live_.end());
  int64_t start = addr, size = live->second;
  live_.erase(live);
  in_use_bytes_ -= size;
  auto next = free_.lower_bound(addr);
  if (next != free_.end() && next->first == start + size) {  // merge with the block after
    size += next->second;
    next = free_.erase(next);
  }
  if (next != free_.begin()) {  // and with the block before
    auto before = std::prev(next);
    if (before->first + before->second == start) {
      start = before->first;
      size += before->second;
      free_.erase(before);
    }
  }
  free_[start] = size;
}

int64_t HbmAllocator::largest_free_block() const {
  int64_t largest = 0;
  for (const auto& [start, size] : free_) largest = std::max(largest, size);
  return largest;
}

int64_t HbmAllocator::live_end() const {
  return live_.empty() ? 0 : live_.rbegin()->first + live_.rbegin()->second;
}

int64_t HbmAllocator::block_bytes(int64_t addr) const {
  auto it = live_.find(addr);
  return it == live_.end() ? 0 : it->second;
}

std::optional<std::pair<int64_t, int64_t>> HbmAllocator::block_containing(int64_t addr, int64_t bytes) const {
  auto it = live_.upper_bound(addr);
  if (it == live_.begin()) return std::nullopt;
  --it;
  if (addr + bytes > it->first + it->second) return std::nullopt;
  return *it;
}

}  // namespace tessera::runtime
