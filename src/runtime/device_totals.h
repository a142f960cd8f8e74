// What the work on a device took in simulated time: launches, copies, FLOPs, HBM traffic, the
// time of each engine kind and of each kernel. Snapshots subtract, so that the work of one
// window (a training step) is `after - before`.
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <string>

#include "sim/stats.h"

namespace tessera::runtime {

// Engine-seconds of one engine kind, summed over the cores (see sim/stats.h for each figure).
struct EngineSeconds {
  double compute = 0, memory_wait = 0, semaphore_wait = 0, barrier_wait = 0;
};

struct KernelSeconds {
  int64_t calls = 0;
  double seconds = 0;  // launch overhead included
};

struct DeviceTotals {
  int64_t launches = 0;
  double launch_seconds = 0;    // the launches' spans on the timeline, overheads included
  double overhead_seconds = 0;  // launch overheads alone
  double flops = 0;             // every engine, as the simulator counts them
  double matrix_flops = 0;      // the matrix engine's: 2 per multiply-accumulate, padding included
  int64_t hbm_bytes = 0;        // read + written by the programs
  std::array<EngineSeconds, sim::kEngines> engines{};  // indexed by isa::Engine
  std::map<std::string, KernelSeconds> kernels;        // by launch name
  int64_t copies = 0, copy_bytes = 0;
  double copy_seconds = 0;  // host link time of the copies

  DeviceTotals& operator+=(const DeviceTotals& work);
  // The work done between snapshot `before` and this one.
  DeviceTotals operator-(const DeviceTotals& before) const;
};

}  // namespace tessera::runtime
