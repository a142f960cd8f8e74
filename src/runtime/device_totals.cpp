// Sums and differences of device totals (see device_totals.h).
#include "runtime/device_totals.h"

namespace tessera::runtime {

namespace {

// into += sign * work, figure by figure.
void accumulate(DeviceTotals& into, const DeviceTotals& work, int sign) {
  into.launches += sign * work.launches;
  into.launch_seconds += sign * work.launch_seconds;
  into.overhead_seconds += sign * work.overhead_seconds;
  into.flops += sign * work.flops;
  into.matrix_flops += sign * work.matrix_flops;
  into.hbm_bytes += sign * work.hbm_bytes;
  for (size_t e = 0; e < into.engines.size(); ++e) {
    into.engines[e].compute += sign * work.engines[e].compute;
    into.engines[e].memory_wait += sign * work.engines[e].memory_wait;
    into.engines[e].semaphore_wait += sign * work.engines[e].semaphore_wait;
    into.engines[e].barrier_wait += sign * work.engines[e].barrier_wait;
  }
  for (const auto& [name, k] : work.kernels) {
    into.kernels[name].calls += sign * k.calls;
    into.kernels[name].seconds += sign * k.seconds;
  }
  std::erase_if(into.kernels, [](const auto& entry) { return entry.second.calls == 0; });
  into.copies += sign * work.copies;
  into.copy_bytes += sign * work.copy_bytes;
  into.copy_seconds += sign * work.copy_seconds;
}

}  // namespace

DeviceTotals& DeviceTotals::operator+=(const DeviceTotals& work) {
  accumulate(*this, work, 1);
  return *this;
}

DeviceTotals DeviceTotals::operator-(const DeviceTotals& before) const {
  DeviceTotals d = *this;
  accumulate(d, before, -1);
  return d;
}

}  // namespace tessera::runtime
