// The engine-model registry, the shared bandwidth servers (with the L2's cache of HBM reads)
// and TimingModel, which routes each issued instruction to its engine's model.
#include <algorithm>
#include <map>

#include "base/error.h"
#include "sim/timing.h"

namespace tessera::sim {

namespace {

std::map<std::string, EngineModelFactory>& registry() {
  static std::map<std::string, EngineModelFactory> factories;
  return factories;
}

}  // namespace

void register_engine_model(const std::string& name, EngineModelFactory factory) {
  TS_ASSERT(!registry().count(name));
  registry()[name] = std::move(factory);
}

std::unique_ptr<EngineModel> make_engine_model(const std::string& name, const ChipSpec& chip) {
  auto it = registry().find(name);
  if (it == registry().end()) {
    std::string known;
    for (const auto& [key, factory] : registry()) known += (known.empty() ? "" : ", ") + key;
    fail("{}: no timing model named '{}' (known: {})", chip.name, name, known);
  }
  return it->second(chip);
}

SharedResources::SharedResources(const ChipSpec& chip, TimingOptions options) : options_(options) {
  auto per_cycle = [&](double bytes_per_s) { return bytes_per_s / chip.clock_hz; };
  servers_[static_cast<int>(Level::Hbm)] = {per_cycle(chip.hbm_bytes_per_s), chip.hbm_latency_s * chip.clock_hz, 0};
  servers_[static_cast<int>(Level::L2)] = {per_cycle(chip.l2_bytes_per_s), 0, 0};
  servers_[static_cast<int>(Level::Link)] = {per_cycle(static_cast<double>(chip.links) * chip.link_bytes_per_s), 0, 0};
  scratchpads_.assign(static_cast<size_t>(chip.cores), Server{per_cycle(chip.scratchpad_bytes_per_s), 0, 0});
  l2_capacity_bytes_ = chip.l2_bytes_per_s > 0 ? chip.l2_bytes : 0;
}

SharedResources::Server& SharedResources::server(Level level, int core) {
  if (level != Level::Spm) return servers_[static_cast<int>(level)];
  TS_ASSERT(core >= 0 && static_cast<size_t>(core) < scratchpads_.size());
  return scratchpads_[static_cast<size_t>(core)];
}

double SharedResources::bytes_per_cycle(Level level) const {
  return level == Level::Spm ? scratchpads_.front().bytes_per_cycle : servers_[static_cast<int>(level)].bytes_per_cycle;
}

double SharedResources::transfer(Level level, int64_t bytes, double start_cycle, int core) {
  Server& s = server(level, core);
  if (options_.ideal_bandwidth || bytes <= 0) return start_cycle;
  if (s.bytes_per_cycle <= 0) {
    TS_ASSERT(level == Level::L2);  // a chip without L2 sends HBM traffic straight to the cores
    return start_cycle;
  }
  double begin = std::max(start_cycle, s.free_cycle);
  s.free_cycle = begin + static_cast<double>(bytes) / s.bytes_per_cycle;
  return s.free_cycle + s.latency_cycles;
}

size_t SharedResources::BlockHash::operator()(const HbmBlock& b) const {
  size_t h = 1469598103934665603ull;
  for (int64_t v : {b.offset, b.depth, b.rows, b.row_bytes, b.row_stride, b.plane_stride}) {
    h = (h ^ static_cast<size_t>(v)) * 1099511628211ull;
  }
  return h;
}

bool SharedResources::cached(const HbmBlock& block, int64_t bytes) {
  auto it = l2_index_.find(block);
  bool hit = it != l2_index_.end();
  if (hit) {
    l2_recent_.splice(l2_recent_.begin(), l2_recent_, it->second);
    return true;
  }
  if (bytes > l2_capacity_bytes_) return false;
  l2_recent_.emplace_front(block, bytes);
  l2_index_[block] = l2_recent_.begin();
  l2_cached_bytes_ += bytes;
  while (l2_cached_bytes_ > l2_capacity_bytes_) {
    l2_cached_bytes_ -= l2_recent_.back().second;
    l2_index_.erase(l2_recent_.back().first);
    l2_recent_.pop_back();
  }
  return false;
}

double SharedResources::read_hbm(const HbmBlock& block, int64_t bytes, double start_cycle, bool& hit) {
  hit = cached(block, bytes);
  double l2_done = transfer(Level::L2, bytes, start_cycle);
  if (hit) return l2_done;
  return std::max(l2_done, transfer(Level::Hbm, bytes, start_cycle));
}

TimingModel::TimingModel(const ChipSpec& chip, TimingOptions options)
    : chip_(chip),
      resources_(chip, options),
      dma_(make_engine_model("dma", chip)),
      matrix_(make_engine_model(std::string(arch::matrix_kind_name(chip.matrix.kind)), chip)),
      vector_(make_engine_model("vector", chip)) {}

Interval TimingModel::schedule(const IssuedInstruction& issued, double ready_cycle) {
  TS_ASSERT(issued.engine != isa::Engine::Scalar);  // the front end runs those itself
  EngineModel& model = issued.engine == isa::Engine::Dma      ? *dma_
                       : issued.engine == isa::Engine::Matrix ? *matrix_
                                                              : *vector_;
  return model.schedule(issued, ready_cycle, resources_);
}

}  // namespace tessera::sim
