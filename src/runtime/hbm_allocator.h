// The allocator of a device's HBM address space: first fit over a list of free blocks sorted
// by address, blocks coalesced with their neighbours when freed, every block aligned to 256
// bytes. It hands out addresses only; the device owns the memory behind them.
#pragma once
#include <cstdint>
#include <map>
#include <optional>

namespace tessera::runtime {

class HbmAllocator {
 public:
  static constexpr int64_t kAlignment = 256;  // bytes

  explicit HbmAllocator(int64_t capacity_bytes);

  // The address of a block of at least `bytes` (rounded up to the alignment; 0 bytes take one
  // aligned unit), or nothing when no free block is large enough.
  std::optional<int64_t> allocate(int64_t bytes);
  // Frees the block at `addr`, which allocate returned and was not freed yet (asserted).
  void free(int64_t addr);

  int64_t capacity_bytes() const { return capacity_bytes_; }
  int64_t bytes_in_use() const { return in_use_bytes_; }  // aligned sizes of the live blocks
  int64_t peak_bytes() const { return peak_bytes_; }      // most in use at once since reset_peak
  void reset_peak() { peak_bytes_ = in_use_bytes_; }
  int64_t largest_free_block() const;
  int64_t free_blocks() const { return static_cast<int64_t>(free_.size()); }
  // The aligned size of the live block at `addr`, or 0 when none starts there.
  int64_t block_bytes(int64_t addr) const;
  // One past the last byte of the highest live block (0 when none is live).
  int64_t live_end() const;
  // The live block that holds [addr, addr + bytes), as (start, size), or nothing.
  std::optional<std::pair<int64_t, int64_t>> block_containing(int64_t addr, int64_t bytes) const;

 private:
  int64_t capacity_bytes_ = 0, in_use_bytes_ = 0, peak_bytes_ = 0;
  std::map<int64_t, int64_t> free_;  // start -> size, disjoint, never adjacent
  std::map<int64_t, int64_t> live_;  // start -> size
};

}  // namespace tessera::runtime
