// Memories as reserved host mappings (see memory.h).
#include "sim/memory.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "base/error.h"

namespace tessera::sim {

namespace {
int64_t host_page_bytes() {
  static const int64_t bytes = sysconf(_SC_PAGESIZE);
  return bytes;
}
int64_t mapped_bytes(int64_t size_bytes) { return std::max<int64_t>(size_bytes, 1); }
}  // namespace

Memory::Memory(std::string name, int64_t size_bytes) : name_(std::move(name)), size_bytes_(size_bytes) {
  TS_ASSERT(size_bytes >= 0);
  // MAP_NORESERVE: the host commits a page when it is first touched, not when it is reserved.
  void* p = mmap(nullptr, static_cast<size_t>(mapped_bytes(size_bytes)), PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED)
    fail("simulated memory '{}': cannot reserve {} bytes of host address space: {}", name_, size_bytes,
         std::strerror(errno));
  base_ = static_cast<uint8_t*>(p);
}

Memory::Memory(Memory&& other) noexcept
    : name_(std::move(other.name_)), size_bytes_(other.size_bytes_), base_(other.base_) {
  other.base_ = nullptr;
}

Memory::~Memory() {
  if (base_) munmap(base_, static_cast<size_t>(mapped_bytes(size_bytes_)));
}

int64_t Memory::resident_bytes() const {
  int64_t page = host_page_bytes(), pages = (mapped_bytes(size_bytes_) + page - 1) / page, resident = 0;
  constexpr int64_t kChunk = 1 << 16;  // pages asked about at once
  std::vector<unsigned char> flags(static_cast<size_t>(kChunk));
  for (int64_t first = 0; first < pages; first += kChunk) {
    int64_t n = std::min(kChunk, pages - first);
    if (mincore(base_ + first * page, static_cast<size_t>(n * page), flags.data()) != 0) continue;
    for (int64_t i = 0; i < n; ++i) resident += flags[static_cast<size_t>(i)] & 1;
  }
  return resident * page;
}

void Memory::check(int64_t addr, int64_t bytes) const {
  TS_ASSERT(addr >= 0 && bytes >= 0 && addr + bytes <= size_bytes_);
}

void Memory::read(int64_t addr, void* dst, int64_t bytes) const {
  std::memcpy(dst, span(addr, bytes), static_cast<size_t>(bytes));
}

void Memory::write(int64_t addr, const void* src, int64_t bytes) {
  std::memcpy(span(addr, bytes), src, static_cast<size_t>(bytes));
}

MachineMemory::MachineMemory(const arch::ChipSpec& chip) : hbm_("hbm", chip.hbm_bytes), l2_("l2", chip.l2_bytes) {
  spm_.reserve(static_cast<size_t>(chip.cores));
  for (int64_t c = 0; c < chip.cores; ++c) spm_.emplace_back(fmt::format("spm@{}", c), chip.scratchpad_bytes);
}

Memory& MachineMemory::at(isa::Space space, int core) {
  switch (space) {
    case isa::Space::Spm: return spm(core);
    case isa::Space::Hbm: return hbm_;
    case isa::Space::L2: return l2_;
  }
  TS_ASSERT(false);
  return hbm_;
}

}  // namespace tessera::sim
