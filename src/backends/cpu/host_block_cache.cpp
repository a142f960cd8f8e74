// Device memory of the fast CPU backend. Freed blocks of 64 KiB and more are kept by size
// and handed out again, zeroed by all threads: a training step allocates the same sizes every
// step, and fresh large blocks would otherwise page-fault (and be zeroed twice) each time.
#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "backends/cpu/fast_backend.h"
#include "base/error.h"

namespace tessera {

namespace {

constexpr size_t kAlignBytes = 64;
constexpr size_t kMinCachedBytes = 64 << 10;     // smaller blocks go straight to malloc
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

}  // namespace

// Idle blocks by size. Shared with the deleters of the blocks it hands out, so it outlives them.
struct FastBackend::BlockCache {
  std::mutex mutex;
  std::unordered_multimap<size_t, void*> idle;  // rounded bytes -> block
  size_t idle_bytes = 0;

  ~BlockCache() {
    for (auto& [bytes, block] : idle) std::free(block);
  }
  void* take(size_t bytes) {
    std::lock_guard lock(mutex);
    auto it = idle.find(bytes);
    if (it == idle.end()) return nullptr;
    void* block = it->second;
    idle.erase(it);
    idle_bytes -= bytes;
    return block;
  }
  void give(size_t bytes, void* block) {
    std::lock_guard lock(mutex);
    if (idle_bytes + bytes > kMaxCachedTotalBytes) {
      std::free(block);
      return;
    }
    idle.emplace(bytes, block);
    idle_bytes += bytes;
  }
};

FastBackend::FastBackend() : cache_(std::make_shared<BlockCache>()) { init_threads(); }

FastBackend::~FastBackend() = default;

std::shared_ptr<void> FastBackend::allocate(size_t bytes) {
  size_t rounded = std::max((bytes + kAlignBytes - 1) / kAlignBytes * kAlignBytes, kAlignBytes);
  if (rounded < kMinCachedBytes) return ReferenceBackend::allocate(bytes);
  void* block = cache_->take(rounded);
  if (!block) block = std::aligned_alloc(kAlignBytes, rounded);
  if (!block) fail("cpu: cannot allocate {} bytes", bytes);
  zero(block, rounded);
  std::shared_ptr<BlockCache> cache = cache_;
  return std::shared_ptr<void>(block, [cache, rounded](void* p) { cache->give(rounded, p); });
}

}  // namespace tessera
