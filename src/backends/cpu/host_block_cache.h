// Host memory for the tensors of a backend that keeps them in host memory (cpu, and chip:* for
// its host side). Freed blocks of 64 KiB and more are kept by size and handed out again,
// zeroed by all threads: a training step allocates the same sizes every step, and fresh large
// blocks would otherwise page-fault (and be zeroed twice) each time. Blocks of 4 MiB and more
// are mappings of their own on transparent huge pages. The idle blocks are a cost in memory: the
// bytes in memory (live and idle blocks) are kept within a quarter above the most ever live; past
// that, the most recently freed large blocks give their pages back to the system (keeping their
// addresses) and fault them in again, on huge pages, when next handed out.
#pragma once
#include <cstddef>
#include <cstdint>
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

  // Bytes of the blocks of 64 KiB and more, as the policy counts them.
  struct Usage {
    size_t system_allocations = 0;  // blocks ever taken from the system
    size_t live_bytes = 0, live_peak_bytes = 0;
    size_t resident_bytes = 0;  // live blocks and idle ones that kept their pages
    size_t idle_bytes = 0;      // idle blocks, with their pages or not
  };
  Usage usage();

 private:
  struct Idle {
    void* block;
    uint64_t freed;  // order in which blocks became idle
    bool resident;   // false once its pages went back to the system
  };
  void* take(size_t bytes);
  void* add(size_t bytes, size_t requested, const std::string& backend);
  void handed_out(size_t bytes);  // the mutex held
  void give(size_t bytes, void* block);
  void trim();  // the mutex held

  std::mutex mutex_;
  std::unordered_multimap<size_t, Idle> idle_;  // rounded bytes -> block
  uint64_t frees_ = 0;
  Usage usage_;
};

}  // namespace tessera
