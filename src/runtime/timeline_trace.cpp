// The device timeline as a Chrome trace (see timeline_trace.h).
#include "runtime/timeline_trace.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/atomic_file.h"

namespace tessera::runtime {

namespace {
constexpr int kKernelsTrack = 0, kCopiesTrack = 1;
}

TimelineTrace::TimelineTrace(const arch::ChipSpec& chip)
    : cores_(chip.cores), clock_hz_(chip.clock_hz), spans_(static_cast<size_t>(chip.cores)) {}

TimelineTrace::Span& TimelineTrace::span(int core, isa::Engine engine) {
  return spans_.at(static_cast<size_t>(core))[static_cast<size_t>(engine)];
}

void TimelineTrace::begin_launch() {
  for (auto& core : spans_) core.fill(Span{});
}

void TimelineTrace::on_instruction(const sim::IssuedInstruction& issued, const sim::Interval& interval) {
  Span& s = span(issued.core, issued.engine);
  if (s.first_cycle < 0) s.first_cycle = interval.start_cycle;
  s.last_cycle = std::max(s.last_cycle, interval.end_cycle);
  s.busy_cycles += interval.end_cycle - interval.start_cycle;
  ++s.instructions;
}

void TimelineTrace::on_blocked(int core, isa::Engine engine, double from_cycle, double to_cycle, bool) {
  Span& s = span(core, engine);
  if (s.first_cycle < 0) s.first_cycle = from_cycle;
  s.last_cycle = std::max(s.last_cycle, to_cycle);
  s.waiting_cycles += to_cycle - from_cycle;
}

void TimelineTrace::end_launch(const std::string& name, double start_s, double program_start_s, double end_s) {
  ++launches_;
  slices_.push_back({0, kKernelsTrack, name, start_s * 1e6, (end_s - start_s) * 1e6,
                     {{"overhead_us", (program_start_s - start_s) * 1e6}}});
  double us_per_cycle = 1e6 / clock_hz_;
  for (int64_t core = 0; core < cores_; ++core) {
    for (int e = 0; e < 4; ++e) {
      const Span& s = spans_[static_cast<size_t>(core)][static_cast<size_t>(e)];
      if (s.first_cycle < 0) continue;
      slices_.push_back({static_cast<int>(core) + 1, e, name, program_start_s * 1e6 + s.first_cycle * us_per_cycle,
                         (s.last_cycle - s.first_cycle) * us_per_cycle,
                         {{"instructions", static_cast<double>(s.instructions)},
                          {"busy_us", s.busy_cycles * us_per_cycle},
                          {"waiting_us", s.waiting_cycles * us_per_cycle}}});
    }
  }
}

void TimelineTrace::add_copy(const std::string& direction, int64_t bytes, double start_s, double end_s) {
  slices_.push_back({0, kCopiesTrack, direction, start_s * 1e6, (end_s - start_s) * 1e6,
                     {{"bytes", static_cast<double>(bytes)}}});
}

std::string TimelineTrace::json() const {
  using nlohmann::json;
  json events = json::array();
  auto name_process = [&](int pid, const std::string& name) {
    events.push_back({{"ph", "M"}, {"name", "process_name"}, {"pid", pid}, {"args", {{"name", name}}}});
  };
  auto name_track = [&](int pid, int tid, const std::string& name) {
    events.push_back({{"ph", "M"}, {"name", "thread_name"}, {"pid", pid}, {"tid", tid}, {"args", {{"name", name}}}});
  };
  name_process(0, "device");
  name_track(0, kKernelsTrack, "kernels");
  name_track(0, kCopiesTrack, "copies");
  for (int64_t core = 0; core < cores_; ++core) {
    int pid = static_cast<int>(core) + 1;
    name_process(pid, fmt::format("core {}", core));
    for (isa::Engine engine : {isa::Engine::Dma, isa::Engine::Matrix, isa::Engine::Vector, isa::Engine::Scalar})
      name_track(pid, static_cast<int>(engine), isa::engine_name(engine));
  }
  for (const Slice& s : slices_) {
    json args = json::object();
    for (const auto& [key, value] : s.args) args[key] = value;
    events.push_back({{"ph", "X"}, {"pid", s.pid}, {"tid", s.tid}, {"name", s.name}, {"ts", s.start_us},
                      {"dur", s.duration_us}, {"args", args}});
  }
  return json{{"traceEvents", events}, {"displayTimeUnit", "ns"}}.dump();
}

void TimelineTrace::write(const std::string& path) const { write_file_atomic(path, json()); }

}  // namespace tessera::runtime
