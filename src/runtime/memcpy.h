// Copies between host memory and a device's HBM, on a stream.
//
// Functionally the bytes move when the call returns. In time, a copy starts after the work
// before it on its stream and when the device's copy engine is free, and takes bytes / the
// chip's host_link.bandwidth; the copy engine is separate from the cores, so a copy on one
// stream overlaps a kernel on another. The HBM range must lie within one live allocation.
#pragma once
#include <cstdint>

#include "runtime/stream.h"

namespace tessera::runtime {

struct CopyRecord {
  double start_seconds = 0, end_seconds = 0;
};

CopyRecord memcpy_to_device(Stream& stream, int64_t dst_addr, const void* src, int64_t bytes);
CopyRecord memcpy_to_host(Stream& stream, void* dst, int64_t src_addr, int64_t bytes);

}  // namespace tessera::runtime
