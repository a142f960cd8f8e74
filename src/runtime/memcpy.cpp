// Host <-> HBM copies on the copy engine (see memcpy.h).
#include "runtime/memcpy.h"

#include "runtime/device.h"
#include "runtime/timeline_trace.h"

namespace tessera::runtime {

namespace {

// Places a copy of `bytes` on the stream and the copy engine, and counts it.
CopyRecord place_copy(Stream& stream, int64_t bytes, const char* direction) {
  Device& device = stream.device();
  double seconds = static_cast<double>(bytes) / device.chip().host_link_bytes_per_s;
  CopyRecord record;
  record.start_seconds = device.take_copy_engine(stream.ready_seconds(), seconds);
  record.end_seconds = record.start_seconds + seconds;
  stream.wait_until(record.end_seconds);
  DeviceTotals work;
  work.copies = 1, work.copy_bytes = bytes, work.copy_seconds = seconds;
  device.add_to_totals(work);
  if (TimelineTrace* trace = device.trace())
    trace->add_copy(direction, bytes, record.start_seconds, record.end_seconds);
  return record;
}

}  // namespace

CopyRecord memcpy_to_device(Stream& stream, int64_t dst_addr, const void* src, int64_t bytes) {
  Device& device = stream.device();
  device.check_allocated(dst_addr, bytes, "memcpy_to_device");
  device.simulator().memory().hbm().write(dst_addr, src, bytes);
  return place_copy(stream, bytes, "host to device");
}

CopyRecord memcpy_to_host(Stream& stream, void* dst, int64_t src_addr, int64_t bytes) {
  Device& device = stream.device();
  device.check_allocated(src_addr, bytes, "memcpy_to_host");
  device.simulator().memory().hbm().read(src_addr, dst, bytes);
  return place_copy(stream, bytes, "device to host");
}

}  // namespace tessera::runtime
