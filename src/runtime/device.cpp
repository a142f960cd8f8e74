// Device memory, timeline and totals (see device.h).
#include "runtime/device.h"

#include <algorithm>

#include "base/error.h"

namespace tessera::runtime {

std::string format_bytes(double bytes) {
  if (bytes >= 1e9) return fmt::format("{:.2f} GB", bytes / 1e9);
  if (bytes >= 1e6) return fmt::format("{:.2f} MB", bytes / 1e6);
  if (bytes >= 1e3) return fmt::format("{:.2f} kB", bytes / 1e3);
  return fmt::format("{:.0f} bytes", bytes);
}

Device::Device(std::string name, const arch::ChipSpec& chip)
    : name_(std::move(name)), simulator_(chip), allocator_(chip.hbm_bytes), default_stream_(*this) {}

int64_t Device::allocate(int64_t bytes) {
  std::lock_guard lock(mutex_);
  if (std::optional<int64_t> addr = allocator_.allocate(bytes)) return *addr;
  std::string message = fmt::format("device '{}': out of memory: allocating {} with {} of {} in use", name_,
                                    format_bytes(static_cast<double>(bytes)),
                                    format_bytes(static_cast<double>(allocator_.bytes_in_use())),
                                    format_bytes(static_cast<double>(allocator_.capacity_bytes())));
  if (allocator_.bytes_in_use() + bytes <= allocator_.capacity_bytes())
    message += fmt::format(" (fragmented: the largest free block is {})",
                           format_bytes(static_cast<double>(allocator_.largest_free_block())));
  throw Error(message);
}

void Device::free(int64_t addr) {
  std::lock_guard lock(mutex_);
  allocator_.free(addr);
}

int64_t Device::bytes_in_use() const {
  std::lock_guard lock(mutex_);
  return allocator_.bytes_in_use();
}

int64_t Device::peak_bytes() const {
  std::lock_guard lock(mutex_);
  return allocator_.peak_bytes();
}

void Device::reset_peak() {
  std::lock_guard lock(mutex_);
  allocator_.reset_peak();
}

int64_t Device::allocated_end() const {
  std::lock_guard lock(mutex_);
  return allocator_.live_end();
}

void Device::check_allocated(int64_t addr, int64_t bytes, const char* what) const {
  std::lock_guard lock(mutex_);
  if (!allocator_.block_containing(addr, bytes))
    fail("device '{}': {} of {} bytes at HBM address {:#x} is outside every allocation", name_, what, bytes, addr);
}

double Device::synchronize() const {
  std::lock_guard lock(mutex_);
  return end_s_;
}

DeviceTotals Device::totals() const {
  std::lock_guard lock(mutex_);
  return totals_;
}

void Device::reset_totals() {
  std::lock_guard lock(mutex_);
  totals_ = {};
}

void Device::set_trace(TimelineTrace* trace) {
  std::lock_guard lock(mutex_);
  trace_ = trace;
}

double Device::take_cores(double earliest, double seconds) {
  std::lock_guard lock(mutex_);
  double start = std::max(earliest, cores_free_s_);
  cores_free_s_ = start + seconds;
  end_s_ = std::max(end_s_, cores_free_s_);
  return start;
}

double Device::take_copy_engine(double earliest, double seconds) {
  std::lock_guard lock(mutex_);
  double start = std::max(earliest, copy_engine_free_s_);
  copy_engine_free_s_ = start + seconds;
  end_s_ = std::max(end_s_, copy_engine_free_s_);
  return start;
}

void Device::add_to_totals(const DeviceTotals& work) {
  std::lock_guard lock(mutex_);
  totals_ += work;
}

}  // namespace tessera::runtime
