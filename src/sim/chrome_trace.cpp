// Chrome-trace JSON of a run.
#include "sim/chrome_trace.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "base/atomic_file.h"
#include "isa/disassembler.h"

namespace tessera::sim {

ChromeTrace::ChromeTrace(const ChipSpec& chip) : cores_(chip.cores), clock_hz_(chip.clock_hz) {}

void ChromeTrace::on_instruction(const IssuedInstruction& issued, const Interval& interval) {
  events_.push_back({issued, interval.start_cycle, interval.end_cycle, nullptr});
}

void ChromeTrace::on_blocked(int core, isa::Engine engine, double from_cycle, double to_cycle, bool barrier) {
  IssuedInstruction where;
  where.core = core, where.engine = engine;
  events_.push_back({where, from_cycle, to_cycle, barrier ? "barrier" : "wait"});
}

std::string ChromeTrace::json() const {
  using nlohmann::json;
  double us_per_cycle = 1e6 / clock_hz_;
  json events = json::array();
  for (int64_t core = 0; core < cores_; ++core) {
    events.push_back({{"ph", "M"}, {"name", "process_name"}, {"pid", core}, {"args", {{"name", fmt::format("core {}", core)}}}});
    for (isa::Engine engine : {isa::Engine::Scalar, isa::Engine::Dma, isa::Engine::Matrix, isa::Engine::Vector}) {
      int tid = static_cast<int>(engine);
      events.push_back({{"ph", "M"}, {"name", "thread_name"}, {"pid", core}, {"tid", tid},
                        {"args", {{"name", isa::engine_name(engine)}}}});
      events.push_back({{"ph", "M"}, {"name", "thread_sort_index"}, {"pid", core}, {"tid", tid},
                        {"args", {{"sort_index", tid}}}});
    }
  }
  for (const Event& e : events_) {
    json event = {{"ph", "X"},
                  {"pid", e.issued.core},
                  {"tid", static_cast<int>(e.issued.engine)},
                  {"ts", e.start_cycle * us_per_cycle},
                  {"dur", (e.end_cycle - e.start_cycle) * us_per_cycle}};
    if (e.blocked) {
      event["name"] = e.blocked;
      event["cat"] = "blocked";
    } else {
      const isa::OpcodeInfo& info = isa::opcode_info(e.issued.inst.op);
      event["name"] = info.mnemonic;
      event["cat"] = isa::engine_name(e.issued.engine);
      json args = json::object();
      for (size_t i = 0; i < info.operands.size() && i < e.issued.inst.operands.size(); ++i) {
        args[info.operands[i].name] = isa::format_operand(e.issued.inst.operands[i]);
      }
      event["args"] = args;
    }
    events.push_back(event);
  }
  return json{{"traceEvents", events}, {"displayTimeUnit", "ns"}}.dump();
}

void ChromeTrace::write(const std::string& path) const { write_file_atomic(path, json()); }

}  // namespace tessera::sim
