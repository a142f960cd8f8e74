// Host memory for the tensors of a backend that keeps them in host memory (cpu, and chip:* for
// its host side). Freed blocks of 64 KiB and more are kept by size and handed out again,
// zeroed by all threads: a training step allocates the same sizes every step, and fresh large
// blocks would otherwise page-fault (and be zeroed twice) each time.
#pragma once
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace tessera {

// `bytes` zeroed bytes aligned to 64, freed when the last holder lets go (no cache); an Error
// naming `backend` when the host has none left.
std::shared_ptr<void> allocate_zeroed(size_t bytes, const std::string& backend);

class HostBlockCache : public std::enable_shared_from_this<HostBlockCache> {
 public:
  // Create with std::make_shared: blocks handed out keep the cache alive.
  HostBlockCache() = default;
  HostBlockCache(const HostBlockCache&) = delete;
  HostBlockCache& operator=(const HostBlockCache&) = delete;
  ~HostBlockCache();

  // `bytes` zeroed bytes aligned to 64; an Error naming `backend` when the host has none left.
  std::shared_ptr<void> allocate(size_t bytes, const std::string& backend);

 private:
  void* take(size_t bytes);
  void give(size_t bytes, void* block);

  std::mutex mutex_;
  std::unordered_multimap<size_t, void*> idle_;  // rounded bytes -> block
  size_t idle_bytes_ = 0;
};

}  // namespace tessera
