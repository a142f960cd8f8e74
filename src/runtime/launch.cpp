// Kernel launches on the simulator and the timeline (see launch.h); a program whose timing the
// device already knows runs untimed (launch_cache.h).
#include "runtime/launch.h"

#include <memory>

#include "base/error.h"
#include "runtime/device.h"
#include "runtime/timeline_trace.h"
#include "sim/stats.h"
#include "sim/untimed_run.h"

namespace tessera::runtime {

namespace {

// What one launch adds to the device's totals.
DeviceTotals launch_totals(const sim::Stats& stats, const std::string& name, double seconds, double overhead,
                           double clock_hz) {
  DeviceTotals work;
  work.launches = 1;
  work.launch_seconds = seconds;
  work.overhead_seconds = overhead;
  work.flops = stats.flops();
  work.matrix_flops = stats.total(isa::Engine::Matrix).flops;
  work.hbm_bytes = stats.bytes(sim::Level::Hbm);
  for (int e = 0; e < sim::kEngines; ++e) {
    sim::EngineStats s = stats.total(static_cast<isa::Engine>(e));
    work.engines[static_cast<size_t>(e)] = {s.compute_cycles / clock_hz, s.memory_wait_cycles / clock_hz,
                                            s.semaphore_wait_cycles / clock_hz, s.barrier_wait_cycles / clock_hz};
  }
  work.kernels[name] = {1, seconds};
  return work;
}

// Whether a program whose run gave `stats` is worth the host's threads in its untimed runs:
// below 4e6 flops plus bytes through the scratchpads, waking them costs more than they save.
bool worth_host_threads(const sim::Stats& stats) {
  return stats.flops() + static_cast<double>(stats.bytes(sim::Level::Spm)) >= 4e6;
}

// Runs `program` with the timing model, its statistics into `stats` (and `trace`, when set).
sim::SimResult simulate(Device& device, const isa::Program& program, sim::Stats& stats, TimelineTrace* trace) {
  sim::TimingModel timing(device.chip());
  sim::SimOptions options;
  options.timing = &timing;
  options.observers = {&stats};
  if (trace) {
    trace->begin_launch();
    options.observers.push_back(trace);
  }
  return device.simulator().run(program, options);
}

}  // namespace

LaunchRecord launch(const isa::Program& program, Stream& stream, const std::string& name,
                    const KernelArguments& arguments, const std::optional<sim::ProgramFingerprint>& fingerprint) {
  Device& device = stream.device();
  const arch::ChipSpec& chip = device.chip();
  if (!arguments.bytes.empty()) {
    auto bytes = static_cast<int64_t>(arguments.bytes.size());
    if (arguments.spm_addr < 0 || arguments.spm_addr > chip.scratchpad_bytes - bytes)
      fail("launch of {}: kernel arguments at spm[{:#x}, {:#x}) lie outside the {}-byte scratchpad", name,
           arguments.spm_addr, arguments.spm_addr + bytes, chip.scratchpad_bytes);
    for (size_t c = 0; c < program.cores.size(); ++c)
      device.simulator().memory().spm(static_cast<int>(c)).write(arguments.spm_addr, arguments.bytes.data(), bytes);
  }
  TimelineTrace* trace = device.trace();
  sim::ProgramFingerprint key = fingerprint ? *fingerprint : sim::fingerprint(program);
  std::shared_ptr<const LaunchCache::Entry> known = trace ? nullptr : device.launch_cache().find(key);
  if (known) {
    sim::run_untimed(program, device.simulator().memory(), chip, worth_host_threads(known->stats));
  } else {
    sim::Stats stats(chip);
    sim::SimResult simulated = simulate(device, program, stats, trace);
    known = std::make_shared<const LaunchCache::Entry>(LaunchCache::Entry{simulated, std::move(stats)});
    if (!trace) device.launch_cache().insert(key, known);
  }
  const sim::SimResult& result = known->result;
  const sim::Stats& stats = known->stats;
  double overhead = chip.launch_overhead_s, seconds = overhead + result.seconds;
  LaunchRecord record;
  record.start_seconds = device.take_cores(stream.ready_seconds(), seconds);
  record.program_seconds = result.seconds;
  record.end_seconds = record.start_seconds + seconds;
  stream.wait_until(record.end_seconds);
  device.add_to_totals(launch_totals(stats, name, seconds, overhead, chip.clock_hz));
  if (trace) trace->end_launch(name, record.start_seconds, record.start_seconds + overhead, record.end_seconds);
  return record;
}

}  // namespace tessera::runtime
