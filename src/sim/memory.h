// The simulated memories: byte-addressed, zero at start, each one reserved host mapping of its
// full size whose pages the host backs on first touch, so that a 96 GB HBM costs the host only
// the pages a program writes, and an address of the memory is one host pointer (the chip
// backend keeps its tensors there, runtime/device.h). Host threads may read and write
// different bytes of one memory at once (the untimed run executes cores in parallel).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "arch/chip.h"
#include "isa/isa.h"

namespace tessera::sim {

// One memory of `size_bytes`. Bytes never written read as zeros. Callers check ranges (see
// functional.cpp); here they are asserted.
class Memory {
 public:
  Memory(std::string name, int64_t size_bytes);
  ~Memory();
  Memory(Memory&& other) noexcept;
  Memory(const Memory&) = delete;
  Memory& operator=(const Memory&) = delete;
  Memory& operator=(Memory&&) = delete;

  const std::string& name() const { return name_; }
  int64_t size_bytes() const { return size_bytes_; }
  // The host memory behind the mapping's touched pages (reading a page never written maps the
  // host's shared zero page, which counts here but costs nothing).
  int64_t resident_bytes() const;

  void read(int64_t addr, void* dst, int64_t bytes) const;
  void write(int64_t addr, const void* src, int64_t bytes);
  // The host pointer of [addr, addr + bytes).
  uint8_t* span(int64_t addr, int64_t bytes) {
    check(addr, bytes);
    return base_ + addr;
  }
  const uint8_t* span(int64_t addr, int64_t bytes) const {
    check(addr, bytes);
    return base_ + addr;
  }

 private:
  void check(int64_t addr, int64_t bytes) const;

  std::string name_;
  int64_t size_bytes_ = 0;
  uint8_t* base_ = nullptr;  // mmap'd, size_bytes_ (at least one page) long; null when moved from
};

// Every memory of a chip: HBM, L2 and one scratchpad per core.
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
