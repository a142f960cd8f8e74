// The host block cache (see host_block_cache.h).
#include "backends/cpu/host_block_cache.h"

#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "base/error.h"

namespace tessera {

namespace {

constexpr size_t kAlignBytes = 64;
constexpr size_t kMinCachedBytes = 64 << 10;         // smaller blocks go straight to malloc
constexpr size_t kMaxCachedTotalBytes = 4ull << 30;  // idle blocks kept at most

// memset(0) of a large block over all threads.
void zero(void* memory, size_t bytes) {
  constexpr size_t kPiece = 1 << 20;
  int64_t pieces = static_cast<int64_t>((bytes + kPiece - 1) / kPiece);
#pragma omp parallel for schedule(static) if (pieces > 1)
  for (int64_t p = 0; p < pieces; ++p) {
    size_t lo = static_cast<size_t>(p) * kPiece;
    std::memset(static_cast<char*>(memory) + lo, 0, std::min(kPiece, bytes - lo));
  }
}

// aligned_alloc wants a size that is a multiple of the alignment (and not zero).
size_t rounded_size(size_t bytes) {
  return std::max((bytes + kAlignBytes - 1) / kAlignBytes * kAlignBytes, kAlignBytes);
}

// A fresh block of `rounded` bytes for a request of `bytes`; an Error naming `backend` when the
// host has none left.
void* new_block(size_t rounded, size_t bytes, const std::string& backend) {
  void* block = std::aligned_alloc(kAlignBytes, rounded);
  if (!block) fail("{}: cannot allocate {} bytes", backend, bytes);
  return block;
}

}  // namespace

HostBlockCache::~HostBlockCache() {
  for (auto& [bytes, block] : idle_) std::free(block);
}

void* HostBlockCache::take(size_t bytes) {
  std::lock_guard lock(mutex_);
  auto it = idle_.find(bytes);
  if (it == idle_.end()) return nullptr;
  void* block = it->second;
  idle_.erase(it);
  idle_bytes_ -= bytes;
  return block;
}

void HostBlockCache::give(size_t bytes, void* block) {
  std::lock_guard lock(mutex_);
  if (idle_bytes_ + bytes > kMaxCachedTotalBytes) {
    std::free(block);
    return;
  }
  idle_.emplace(bytes, block);
  idle_bytes_ += bytes;
}

std::shared_ptr<void> allocate_zeroed(size_t bytes, const std::string& backend) {
  size_t rounded = rounded_size(bytes);
  void* block = new_block(rounded, bytes, backend);
  zero(block, rounded);
  return std::shared_ptr<void>(block, std::free);
}

std::shared_ptr<void> HostBlockCache::allocate(size_t bytes, const std::string& backend) {
  size_t rounded = rounded_size(bytes);
  if (rounded < kMinCachedBytes) return allocate_zeroed(bytes, backend);
  void* block = take(rounded);
  if (!block) block = new_block(rounded, bytes, backend);
  zero(block, rounded);
  return std::shared_ptr<void>(block, [cache = shared_from_this(), rounded](void* p) { cache->give(rounded, p); });
}

}  // namespace tessera
