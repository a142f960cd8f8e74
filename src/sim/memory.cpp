// Paged, lazily allocated memories (see memory.h).
#include "sim/memory.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "base/error.h"

namespace tessera::sim {

namespace {
constexpr int64_t kPageBytes = 1 << 20;  // HBM and L2
}

Memory::Memory(std::string name, int64_t size_bytes, int64_t page_bytes)
    : name_(std::move(name)),
      size_bytes_(size_bytes),
      page_bytes_(std::max<int64_t>(page_bytes, 1)),
      allocated_pages_(std::make_unique<std::atomic<int64_t>>(0)),
      pages_(std::make_unique<std::atomic<uint8_t*>[]>(static_cast<size_t>(page_count()))) {
  TS_ASSERT(size_bytes >= 0);
}

Memory::~Memory() {
  if (!pages_) return;  // moved from
  for (int64_t i = 0; i < page_count(); ++i) std::free(pages_[static_cast<size_t>(i)].load());
}

uint8_t* Memory::page(int64_t index) {
  std::atomic<uint8_t*>& slot = pages_[static_cast<size_t>(index)];
  uint8_t* p = slot.load(std::memory_order_acquire);
  if (p) return p;
  // calloc: the host maps zero pages lazily, so a large page costs only what is touched.
  auto* fresh = static_cast<uint8_t*>(std::calloc(static_cast<size_t>(page_bytes_), 1));
  if (!fresh) throw std::bad_alloc();
  if (!slot.compare_exchange_strong(p, fresh, std::memory_order_acq_rel)) {
    std::free(fresh);  // another thread allocated it first
    return p;
  }
  allocated_pages_->fetch_add(1);
  return fresh;
}

bool Memory::contiguous(int64_t addr, int64_t bytes) const {
  return bytes <= 0 || addr / page_bytes_ == (addr + bytes - 1) / page_bytes_;
}

uint8_t* Memory::span(int64_t addr, int64_t bytes) {
  TS_ASSERT(addr >= 0 && bytes >= 0 && addr + bytes <= size_bytes_ && contiguous(addr, bytes));
  return page(addr / page_bytes_) + addr % page_bytes_;
}

const uint8_t* Memory::written_span(int64_t addr, int64_t bytes) const {
  TS_ASSERT(addr >= 0 && bytes >= 0 && addr + bytes <= size_bytes_);
  if (!contiguous(addr, bytes)) return nullptr;
  const uint8_t* p = pages_[static_cast<size_t>(addr / page_bytes_)].load(std::memory_order_acquire);
  return p ? p + addr % page_bytes_ : nullptr;
}

void Memory::read(int64_t addr, void* dst, int64_t bytes) const {
  TS_ASSERT(addr >= 0 && bytes >= 0 && addr + bytes <= size_bytes_);
  auto* out = static_cast<uint8_t*>(dst);
  while (bytes > 0) {
    int64_t in_page = addr % page_bytes_;
    int64_t n = std::min(bytes, page_bytes_ - in_page);
    const uint8_t* p = pages_[static_cast<size_t>(addr / page_bytes_)].load(std::memory_order_acquire);
    if (p)
      std::memcpy(out, p + in_page, static_cast<size_t>(n));
    else
      std::memset(out, 0, static_cast<size_t>(n));
    out += n, addr += n, bytes -= n;
  }
}

void Memory::write(int64_t addr, const void* src, int64_t bytes) {
  TS_ASSERT(addr >= 0 && bytes >= 0 && addr + bytes <= size_bytes_);
  const auto* in = static_cast<const uint8_t*>(src);
  while (bytes > 0) {
    int64_t in_page = addr % page_bytes_;
    int64_t n = std::min(bytes, page_bytes_ - in_page);
    std::memcpy(page(addr / page_bytes_) + in_page, in, static_cast<size_t>(n));
    in += n, addr += n, bytes -= n;
  }
}

void copy_bytes(Memory& dst, int64_t dst_addr, const Memory& src, int64_t src_addr, int64_t bytes) {
  while (bytes > 0) {
    int64_t n = std::min({bytes, dst.page_bytes() - dst_addr % dst.page_bytes(),
                          src.page_bytes() - src_addr % src.page_bytes()});
    // memmove: a copy within one memory may overlap (DMA rejects overlapping blocks; a row
    // copied onto itself is harmless).
    uint8_t* out = dst.span(dst_addr, n);
    if (&src == &dst)
      std::memmove(out, dst.span(src_addr, n), static_cast<size_t>(n));
    else
      src.read(src_addr, out, n);
    dst_addr += n, src_addr += n, bytes -= n;
  }
}

MachineMemory::MachineMemory(const arch::ChipSpec& chip)
    : hbm_("hbm", chip.hbm_bytes, kPageBytes), l2_("l2", chip.l2_bytes, kPageBytes) {
  spm_.reserve(static_cast<size_t>(chip.cores));
  for (int64_t c = 0; c < chip.cores; ++c)
    spm_.emplace_back(fmt::format("spm@{}", c), chip.scratchpad_bytes, chip.scratchpad_bytes);
}

Memory& MachineMemory::at(isa::Space space, int core) {
  switch (space) {
    case isa::Space::Hbm: return hbm_;
    case isa::Space::L2: return l2_;
    case isa::Space::Spm: return spm(core);
  }
  TS_ASSERT(false);
  return hbm_;
}

}  // namespace tessera::sim
