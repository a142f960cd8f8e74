// The simulator's host threads for the cores of an untimed run: run_on_host_threads(count, fn)
// calls fn(i) for every i in [0, count), on the calling thread and on whichever helper thread
// is free, and returns when every call has returned. The calling thread never waits for a
// helper to wake up, as the end of an OpenMP parallel region does: it takes the calls no
// helper has taken, and waits only for calls already running. A helper that wakes late finds
// nothing left and sleeps again; one that finishes spins for a moment before it sleeps, since
// a training step's launches follow each other closely.
//
// There are as many helpers as OpenMP's thread count (OMP_NUM_THREADS) less one, started on
// first use. One run at a time (callers from several threads take turns); a call made from
// inside fn runs its calls itself, in order.
#pragma once
#include <cstdint>
#include <functional>

namespace tessera::sim {

// The first exception thrown by a call is rethrown once all calls are done.
void run_on_host_threads(int64_t count, const std::function<void(int64_t)>& fn);

// Whether the calling thread is inside fn of run_on_host_threads.
bool on_host_threads();

}  // namespace tessera::sim
