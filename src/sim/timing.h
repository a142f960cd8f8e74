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
#pragma once
#include <array>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "arch/chip.h"
#include "isa/isa.h"

namespace tessera::sim {

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

// Bandwidth servers for HBM, L2 and links, shared by every core's engines (first come, first
// served in order of request start).
class SharedResources {
 public:
  explicit SharedResources(const ChipSpec& chip);
  // Moves `bytes` through `level` starting no earlier than `start_cycle`; returns the cycle
  // the transfer completes (latency included for HBM).
  double transfer(Level level, int64_t bytes, double start_cycle);

 private:
  struct Server {
    double bytes_per_cycle = 0;
    double latency_cycles = 0;
    double free_cycle = 0;
  };
  std::array<Server, kLevels> servers_;
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
  explicit TimingModel(const ChipSpec& chip);
  Interval schedule(const IssuedInstruction& issued, double ready_cycle);
  const ChipSpec& chip() const { return chip_; }

 private:
  const ChipSpec& chip_;
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
      name, [](const ::tessera::ChipSpec& chip) { return std::make_unique<Type>(chip); }), true)
