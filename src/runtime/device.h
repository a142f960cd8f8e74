// A Device: one simulated chip (arch::ChipSpec) with its simulator, the allocator of its HBM,
// its default stream and the timeline of its two resources: the compute cores, which run one
// kernel at a time, and the copy engine, which moves bytes over the host link. launch.h and
// memcpy.h queue work on it; device_totals.h is what the work took.
//
// Allocating beyond the HBM fails with one line naming the device and the sizes, e.g.
// "device 'chip:t1': out of memory: allocating 2.10 GB with 95.20 GB of 96.00 GB in use".
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "arch/chip.h"
#include "runtime/device_totals.h"
#include "runtime/hbm_allocator.h"
#include "runtime/launch_cache.h"
#include "runtime/stream.h"
#include "sim/simulator.h"

namespace tessera::runtime {

class TimelineTrace;

// "2.10 GB", "512.00 kB", "300 bytes": decimal units, as the message above.
std::string format_bytes(double bytes);

class Device {
 public:
  Device(std::string name, const arch::ChipSpec& chip);
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  const std::string& name() const { return name_; }
  const arch::ChipSpec& chip() const { return simulator_.chip(); }
  sim::Simulator& simulator() { return simulator_; }

  // Device memory: the HBM address of `bytes` of HBM; an Error when they do not fit.
  int64_t allocate(int64_t bytes);
  void free(int64_t addr);  // an address allocate returned (asserted)
  int64_t bytes_in_use() const;
  int64_t peak_bytes() const;
  void reset_peak();
  // One past the last byte of the highest live allocation (0 when none is live): HBM above it is
  // free for a launch's workspace.
  int64_t allocated_end() const;
  // Fails, naming the device and `what`, unless [addr, addr + bytes) lies in one live block.
  void check_allocated(int64_t addr, int64_t bytes, const char* what) const;

  Stream& default_stream() { return default_stream_; }
  // What launches learnt of the programs run so far (launch.cpp).
  LaunchCache& launch_cache() { return launch_cache_; }
  // When all work queued so far on every stream ends, in simulated seconds.
  double synchronize() const;

  DeviceTotals totals() const;
  void reset_totals();
  // Launches while a trace is set also add their engine activity to it (null: none).
  void set_trace(TimelineTrace* trace);
  TimelineTrace* trace() const { return trace_; }

  // For launch.cpp and memcpy.cpp: takes the cores (or the copy engine) for `seconds` from
  // the first moment after `earliest` they are free; returns the start. Updates the totals.
  double take_cores(double earliest, double seconds);
  double take_copy_engine(double earliest, double seconds);
  void add_to_totals(const DeviceTotals& work);

 private:
  std::string name_;
  sim::Simulator simulator_;
  mutable std::mutex mutex_;  // the allocator, the timeline and the totals
  HbmAllocator allocator_;
  Stream default_stream_;
  LaunchCache launch_cache_;
  double cores_free_s_ = 0, copy_engine_free_s_ = 0, end_s_ = 0;
  DeviceTotals totals_;
  TimelineTrace* trace_ = nullptr;
};

}  // namespace tessera::runtime
