// Kernel launches: a tile program run on a stream's device with the timing model on.
//
// A launch starts after the work before it on its stream and when the chip's cores are free
// (kernels execute one at a time, each on all the cores its program uses), costs the chip's
// launch_overhead before its program starts, and ends when the program's last engine does.
// The functional simulator computes the program's results before launch returns.
//
// Kernel arguments: bytes the launch writes at one scratchpad address of every core the program
// uses before it starts, as a GPU launch hands its parameters to the kernel. Values that change
// from launch to launch (a learning rate, a step's bias corrections) travel there, so that the
// program stays the same (and its known timing is reused, launch_cache.h). Untimed: part of the
// launch overhead.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "isa/isa.h"
#include "runtime/stream.h"
#include "sim/program_fingerprint.h"

namespace tessera::runtime {

struct LaunchRecord {
  double start_seconds = 0;    // on the device's timeline, the launch overhead first
  double program_seconds = 0;  // the program alone, as the timing model says
  double end_seconds = 0;
};

struct KernelArguments {
  int64_t spm_addr = 0;
  std::vector<uint8_t> bytes;
};

// Runs `program` on `stream` with `arguments`; `name` labels it in the totals and the trace.
// `fingerprint`: the program's, when the caller has it (a program cache); hashed otherwise.
// Arguments beyond the scratchpad are an Error naming the launch.
LaunchRecord launch(const isa::Program& program, Stream& stream, const std::string& name,
                    const KernelArguments& arguments = {},
                    const std::optional<sim::ProgramFingerprint>& fingerprint = std::nullopt);

}  // namespace tessera::runtime
