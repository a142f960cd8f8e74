// Kernel launches: a tile program run on a stream's device with the timing model on.
//
// A launch starts after the work before it on its stream and when the chip's cores are free
// (kernels execute one at a time, each on all the cores its program uses), costs the chip's
// launch_overhead before its program starts, and ends when the program's last engine does.
// The functional simulator computes the program's results before launch returns.
#pragma once
#include <string>

#include "isa/isa.h"
#include "runtime/stream.h"

namespace tessera::runtime {

struct LaunchRecord {
  double start_seconds = 0;    // on the device's timeline, the launch overhead first
  double program_seconds = 0;  // the program alone, as the timing model says
  double end_seconds = 0;
};

// Runs `program` on `stream`; `name` labels it in the totals and the trace.
LaunchRecord launch(const isa::Program& program, Stream& stream, const std::string& name);

}  // namespace tessera::runtime
