// The untimed run's host threads (see host_threads.h).
//
// A run is published as one 64-bit word: its generation, its number of calls and the next
// call to take. Threads take calls by compare-and-swap on that word, so a thread still holding
// an older generation can never take a call of a newer run, and fn and the count it reads
// belong to the run whose call it took (they change only after all its calls are done).
#include "sim/host_threads.h"

#include <immintrin.h>
#include <linux/futex.h>
#include <omp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "base/error.h"

namespace tessera::sim {

namespace {

thread_local bool inside_fn = false;

static_assert(sizeof(std::atomic<uint32_t>) == 4 && std::atomic<uint32_t>::is_always_lock_free,
              "futex words are plain 32-bit integers");

// Sleeps while `word` holds `value` (or until woken); the kernel compares as it queues us.
void futex_wait(std::atomic<uint32_t>& word, uint32_t value) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAIT_PRIVATE, value, nullptr, nullptr, 0);
}

void futex_wake_all(std::atomic<uint32_t>& word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
}

class HostThreads {
 public:
  explicit HostThreads(int helpers) {
    for (int h = 0; h < helpers; ++h) helpers_.emplace_back([this] { helper_loop(); });
  }
  ~HostThreads() {
    stop_.store(true, std::memory_order_seq_cst);
    generation_.fetch_add(1, std::memory_order_seq_cst);
    futex_wake_all(generation_);
    for (std::thread& t : helpers_) t.join();
  }

  void run(int64_t count, const std::function<void(int64_t)>& fn) {
    TS_ASSERT(count >= 0 && count < kMaxCalls);
    std::lock_guard lock(run_mutex_);
    fn_ = &fn;
    error_ = nullptr;
    done_.store(0, std::memory_order_relaxed);
    uint32_t generation = (generation_.load(std::memory_order_relaxed) + 1) & kGenerationMask;
    word_.store(pack(generation, static_cast<uint64_t>(count), 0), std::memory_order_release);
    generation_.store(generation, std::memory_order_seq_cst);
    if (sleeping_.load(std::memory_order_seq_cst) > 0) futex_wake_all(generation_);
    take_calls(generation);
    // Only calls that helpers are running are left: spin, then yield (a helper may have lost
    // its core).
    for (int spin = 0; done_.load(std::memory_order_acquire) < count; ++spin) {
      if (spin < kDoneSpins)
        _mm_pause();
      else
        std::this_thread::yield();
    }
    fn_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  static constexpr int kCallBits = 20, kGenerationBits = 24;
  static constexpr int64_t kMaxCalls = int64_t{1} << kCallBits;
  static constexpr uint32_t kGenerationMask = (uint32_t{1} << kGenerationBits) - 1;
  static constexpr uint64_t kCallMask = (uint64_t{1} << kCallBits) - 1;
  // How long a helper that finished spins for the next run before it sleeps.
  static constexpr std::chrono::microseconds kSpin{100};
  // Pauses before run() yields while it waits for helpers' calls to end.
  static constexpr int kDoneSpins = 1 << 14;

  static uint64_t pack(uint32_t generation, uint64_t count, uint64_t next) {
    return (uint64_t{generation} << (2 * kCallBits)) | (count << kCallBits) | next;
  }

  // Takes and runs calls of run `generation` until none is left.
  void take_calls(uint32_t generation) {
    uint64_t word = word_.load(std::memory_order_acquire);
    while (true) {
      uint64_t count = (word >> kCallBits) & kCallMask, next = word & kCallMask;
      if ((word >> (2 * kCallBits)) != generation || next >= count) return;
      if (!word_.compare_exchange_weak(word, word + 1, std::memory_order_acq_rel, std::memory_order_acquire))
        continue;
      inside_fn = true;
      try {
        (*fn_)(static_cast<int64_t>(next));
      } catch (...) {
        std::lock_guard lock(error_mutex_);
        if (!error_) error_ = std::current_exception();
      }
      inside_fn = false;
      done_.fetch_add(1, std::memory_order_acq_rel);
      word = word_.load(std::memory_order_acquire);
    }
  }

  // Every load of the generation is followed by a look at stop_ before the helper sleeps on it:
  // the destructor sets stop_ before it moves the generation on, so a helper that sees the
  // last generation sees stop_, and one that sleeps on an earlier one is woken.
  void helper_loop() {
    for (uint32_t seen = generation_.load(std::memory_order_seq_cst); !stop_.load(std::memory_order_seq_cst);
         seen = generation_.load(std::memory_order_seq_cst)) {
      take_calls(seen);
      auto until = std::chrono::steady_clock::now() + kSpin;
      while (generation_.load(std::memory_order_acquire) == seen && std::chrono::steady_clock::now() < until)
        for (int i = 0; i < 16; ++i) _mm_pause();
      // Sleeps unless a run was published: the kernel checks the generation as it queues us,
      // and run() wakes sleepers after it publishes (both sequentially consistent).
      sleeping_.fetch_add(1, std::memory_order_seq_cst);
      if (generation_.load(std::memory_order_seq_cst) == seen) futex_wait(generation_, seen);
      sleeping_.fetch_sub(1, std::memory_order_seq_cst);
    }
  }

  std::vector<std::thread> helpers_;
  std::mutex run_mutex_, error_mutex_;
  const std::function<void(int64_t)>* fn_ = nullptr;
  std::exception_ptr error_;
  std::atomic<uint64_t> word_{0};
  std::atomic<uint32_t> generation_{0}, done_{0}, sleeping_{0};
  std::atomic<bool> stop_{false};
};

HostThreads& host_threads() {
  static HostThreads threads(std::max(0, omp_get_max_threads() - 1));
  return threads;
}

}  // namespace

void run_on_host_threads(int64_t count, const std::function<void(int64_t)>& fn) {
  if (inside_fn || count <= 1) {
    for (int64_t i = 0; i < count; ++i) fn(i);
    return;
  }
  host_threads().run(count, fn);
}

bool on_host_threads() { return inside_fn; }

}  // namespace tessera::sim
