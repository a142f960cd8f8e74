// The untimed run's host threads: every call of a run made exactly once, on the caller and the
// helpers, across thousands of runs with and without pauses long enough for the helpers to fall
// asleep; calls made from inside a call run in order on that thread; the first exception is
// rethrown after every call is done.
#include "sim/host_threads.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

namespace tessera::sim {
namespace {

TEST(HostThreads, EveryCallOfEveryRunIsMadeOnce) {
  std::vector<std::atomic<int>> made(64);
  for (int run = 0; run < 3000; ++run) {
    int64_t count = 2 + run % 63;
    for (std::atomic<int>& m : made) m.store(0);
    run_on_host_threads(count, [&](int64_t i) { made[static_cast<size_t>(i)].fetch_add(1); });
    for (int64_t i = 0; i < 64; ++i)
      ASSERT_EQ(made[static_cast<size_t>(i)].load(), i < count ? 1 : 0) << "run " << run << ", call " << i;
    // Now and then long enough for the helpers to stop spinning and sleep.
    if (run % 100 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

TEST(HostThreads, CallsFromInsideACallRunInOrderOnItsThread) {
  std::vector<std::vector<int64_t>> order(8);
  run_on_host_threads(8, [&](int64_t i) {
    EXPECT_TRUE(on_host_threads());
    std::thread::id self = std::this_thread::get_id();
    run_on_host_threads(5, [&](int64_t j) {
      EXPECT_EQ(std::this_thread::get_id(), self);
      order[static_cast<size_t>(i)].push_back(j);
    });
  });
  EXPECT_FALSE(on_host_threads());
  for (const std::vector<int64_t>& o : order) EXPECT_EQ(o, (std::vector<int64_t>{0, 1, 2, 3, 4}));
}

TEST(HostThreads, TheFirstExceptionIsRethrownAfterEveryCall) {
  std::atomic<int> made{0};
  EXPECT_THROW(run_on_host_threads(40,
                                   [&](int64_t i) {
                                     made.fetch_add(1);
                                     if (i % 7 == 3) throw std::runtime_error("call " + std::to_string(i));
                                   }),
               std::runtime_error);
  EXPECT_EQ(made.load(), 40);
  // The threads still work afterwards.
  made.store(0);
  run_on_host_threads(10, [&](int64_t) { made.fetch_add(1); });
  EXPECT_EQ(made.load(), 10);
}

}  // namespace
}  // namespace tessera::sim
