// The timing side of the simulator: a discrete-event model in which each engine of each core
// is an in-order queue and each instruction occupies its engine for an interval computed by
// the engine's model. HBM, the shared on-chip memory (L2) and the chip-to-chip links are
// shared resources with contention. Timing never changes results: the functional engine
// computes every value; the timing model only says when.
//
// Contract between the simulator loop (simulator.cpp) and the timing models (timing_*.cpp):
// - The loop calls TimingModel::schedule once per issued DMA/Matrix/Vector instruction, in
//   non-decreasing order of `ready_cycle` per engine, where ready_cycle is the cycle at which
//   the instruction could start (its engine free, its issue done, the waits before it met).
// - schedule returns the interval the instruction occupies; the engine is free again at
//   `end_cycle`, and a `signal` after it takes effect then.
// - Engine models register by name (REGISTER_ENGINE_MODEL); the chip description chooses the
//   matrix model by `matrix.kind` ("systolic" with its dataflow, or "tensor_core"); DMA and
//   vector engines use "dma" and "vector".
// - In ideal-bandwidth mode (TimingOptions) memories move bytes in no time: DMA takes zero
//   cycles and the engines never wait for the scratchpad, as in SCALE-Sim's compute model.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "arch/chip.h"
#include "isa/isa.h"

namespace tessera::sim {

using arch::ChipSpec;

// An instruction as issued to an engine: its register operands already replaced by values,
// so every Addr operand's `offset` is absolute and `reg` is -1.
struct IssuedInstruction {
  int core = 0;
  isa::Engine engine = isa::Engine::Dma;
  isa::Instruction inst;
};

enum class Level : uint8_t { Hbm, L2, Spm, Link };
inline constexpr int kLevels = 4;

// What an instruction did in time.
struct Interval {
  double start_cycle = 0, end_cycle = 0;
  double compute_cycles = 0;      // of (end - start): the engine computing
  double memory_wait_cycles = 0;  // of (end - start): waiting for a shared memory or link
  std::array<int64_t, kLevels> bytes{};  // bytes read + written per level
  double flops = 0;                      // 2 per multiply-accumulate, 1 per vector op
};

struct TimingOptions {
  bool ideal_bandwidth = false;  // memories move bytes in no time (SCALE-Sim's compute mode)
};

// A block read from HBM, as a DMA names it: its start and its shape. Two reads of the same
// block are the same bytes, which the L2 may still hold.
struct HbmBlock {
  int64_t offset = 0, depth = 1, rows = 1, row_bytes = 0, row_stride = 0, plane_stride = 0;
  bool operator==(const HbmBlock&) const = default;
};

// Bandwidth servers for HBM, L2 and links, shared by every core's engines, and one scratchpad
// server per core (first come, first served in order of request start). The L2 also caches
// HBM reads: a block read again while it is among the most recently read l2.size bytes is
// served by the L2 alone.
class SharedResources {
 public:
  SharedResources(const ChipSpec& chip, TimingOptions options = {});
  // Moves `bytes` through `level` (for Spm: the scratchpad of `core`) starting no earlier than
  // `start_cycle`; returns the cycle the transfer completes (latency included for HBM).
  double transfer(Level level, int64_t bytes, double start_cycle, int core = 0);
  // Reads `block` (of `bytes` bytes) from HBM through the L2; returns the completion cycle.
  // `hit` tells whether the L2 held it.
  double read_hbm(const HbmBlock& block, int64_t bytes, double start_cycle, bool& hit);
  bool ideal_bandwidth() const { return options_.ideal_bandwidth; }
  double bytes_per_cycle(Level level) const;

 private:
  struct Server {
    double bytes_per_cycle = 0;  // 0: no such memory; a transfer through it is instant
    double latency_cycles = 0;
    double free_cycle = 0;
  };
  struct BlockHash {
    size_t operator()(const HbmBlock& b) const;
  };
  Server& server(Level level, int core);
  bool cached(const HbmBlock& block, int64_t bytes);  // looks up and records the read

  TimingOptions options_;
  std::array<Server, kLevels> servers_;  // the Spm entry is unused: see scratchpads_
  std::vector<Server> scratchpads_;      // per core
  int64_t l2_capacity_bytes_ = 0, l2_cached_bytes_ = 0;
  std::list<std::pair<HbmBlock, int64_t>> l2_recent_;  // most recent first, with its bytes
  std::unordered_map<HbmBlock, std::list<std::pair<HbmBlock, int64_t>>::iterator, BlockHash> l2_index_;
};

// The model of one engine kind.
class EngineModel {
 public:
  virtual ~EngineModel() = default;
  virtual Interval schedule(const IssuedInstruction& issued, double ready_cycle, SharedResources& resources) = 0;
};

using EngineModelFactory = std::function<std::unique_ptr<EngineModel>(const ChipSpec&)>;
void register_engine_model(const std::string& name, EngineModelFactory factory);
std::unique_ptr<EngineModel> make_engine_model(const std::string& name, const ChipSpec& chip);

// All engine models of a chip plus its shared resources.
class TimingModel {
 public:
  explicit TimingModel(const ChipSpec& chip, TimingOptions options = {});
  Interval schedule(const IssuedInstruction& issued, double ready_cycle);
  const ChipSpec& chip() const { return chip_; }

 private:
  ChipSpec chip_;
  SharedResources resources_;
  std::unique_ptr<EngineModel> dma_, matrix_, vector_;
};

// Receives what happened, for statistics and traces (stats.h, chrome_trace.h).
class SimObserver {
 public:
  virtual ~SimObserver() = default;
  virtual void on_instruction(const IssuedInstruction& issued, const Interval& interval) = 0;
  // An engine blocked from `from_cycle` to `to_cycle` by a `wait` (semaphore) or a barrier.
  virtual void on_blocked(int core, isa::Engine engine, double from_cycle, double to_cycle, bool barrier) = 0;
};

}  // namespace tessera::sim

#define REGISTER_ENGINE_MODEL(name, Type)                                             \
  static const bool TS_ENGINE_MODEL_##Type = (::tessera::sim::register_engine_model( \
      name, [](const ::tessera::arch::ChipSpec& chip) { return std::make_unique<Type>(chip); }), true)
