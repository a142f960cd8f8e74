// The simulated memories: byte-addressed, zero at start, allocated in pages on first write so
// that a 96 GB HBM costs the host only the pages a program touches. Host threads may read and
// write different bytes of one memory at once (the untimed run executes cores in parallel):
// a page is allocated once, by whichever thread touches it first.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "arch/chip.h"
#include "isa/isa.h"

namespace tessera::sim {

// One memory of `size_bytes`, stored in pages of `page_bytes`. Reads of a page never written
// give zeros. Callers check ranges (see functional.cpp); here they are asserted.
class Memory {
 public:
  Memory(std::string name, int64_t size_bytes, int64_t page_bytes);
  ~Memory();
  Memory(Memory&&) = default;
  Memory& operator=(Memory&&) = delete;

  const std::string& name() const { return name_; }
  int64_t size_bytes() const { return size_bytes_; }
  int64_t page_bytes() const { return page_bytes_; }
  int64_t allocated_bytes() const { return allocated_pages_->load() * page_bytes_; }

  void read(int64_t addr, void* dst, int64_t bytes) const;
  void write(int64_t addr, const void* src, int64_t bytes);
  // A pointer to [addr, addr + bytes), which must lie within one page; allocates it.
  uint8_t* span(int64_t addr, int64_t bytes);
  // Whether [addr, addr + bytes) lies within one page.
  bool contiguous(int64_t addr, int64_t bytes) const;
  // A pointer to [addr, addr + bytes) when it lies within one page that has been written, else
  // nullptr; allocates nothing.
  const uint8_t* written_span(int64_t addr, int64_t bytes) const;

 private:
  uint8_t* page(int64_t index);
  int64_t page_count() const { return (size_bytes_ + page_bytes_ - 1) / page_bytes_; }

  std::string name_;
  int64_t size_bytes_ = 0, page_bytes_ = 0;
  // Behind pointers, so that a Memory can move (the atomics cannot).
  std::unique_ptr<std::atomic<int64_t>> allocated_pages_;
  std::unique_ptr<std::atomic<uint8_t*>[]> pages_;  // null until first written; freed with std::free
};

// Copies between two memories (or within one), page by page.
void copy_bytes(Memory& dst, int64_t dst_addr, const Memory& src, int64_t src_addr, int64_t bytes);

// Every memory of a chip: HBM, L2 and one scratchpad per core. A scratchpad is one page, so
// that tiles in it are contiguous for the host kernels.
class MachineMemory {
 public:
  explicit MachineMemory(const arch::ChipSpec& chip);

  int cores() const { return static_cast<int>(spm_.size()); }
  Memory& hbm() { return hbm_; }
  Memory& l2() { return l2_; }
  Memory& spm(int core) { return spm_.at(static_cast<size_t>(core)); }
  // The memory `space` as seen from `core` (spm: that core's scratchpad).
  Memory& at(isa::Space space, int core);

 private:
  Memory hbm_, l2_;
  std::vector<Memory> spm_;
};

}  // namespace tessera::sim
