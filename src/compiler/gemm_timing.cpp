// Timing-only runs of a lowered GEMM (see gemm_timing.h).
#include "compiler/gemm_timing.h"

#include <vector>

#include "arch/chip_figures.h"
#include "sim/timing_run.h"

namespace tessera::compiler {

namespace {

constexpr int64_t kTilesPerPiece = 1;  // tiles' steps handed to the run at a time

int64_t align(int64_t bytes) { return (bytes + 255) / 256 * 256; }

// Tells `inner` of a run that starts `offset` cycles into the kernel (the reduction of a split K).
class Shifted : public sim::SimObserver {
 public:
  Shifted(sim::SimObserver& inner, double offset) : inner_(inner), offset_(offset) {}
  void on_instruction(const sim::IssuedInstruction& issued, const sim::Interval& interval) override {
    sim::Interval shifted = interval;
    shifted.start_cycle += offset_, shifted.end_cycle += offset_;
    inner_.on_instruction(issued, shifted);
  }
  void on_blocked(int core, isa::Engine engine, double from_cycle, double to_cycle, bool barrier) override {
    inner_.on_blocked(core, engine, from_cycle + offset_, to_cycle + offset_, barrier);
  }

 private:
  sim::SimObserver& inner_;
  double offset_;
};

// Cycles of the reduction of a split K, run after the tiles (the barrier), from cycle `start`.
double time_reduction(const GemmLowering& l, const arch::ChipSpec& chip, const GemmArgs& args, double start,
                      std::span<sim::SimObserver* const> observers, sim::TimingOptions timing) {
  std::vector<Shifted> shifted;
  for (sim::SimObserver* o : observers) shifted.emplace_back(*o, start);
  std::vector<sim::SimObserver*> shifted_observers;
  for (Shifted& s : shifted) shifted_observers.push_back(&s);
  std::vector<bool> given(l.reduction.cores.size(), false);
  std::vector<isa::Instruction> scratch;
  sim::WorkSource work = [&](int core, sim::EngineQueues& queues) {
    if (given[static_cast<size_t>(core)]) return false;
    given[static_cast<size_t>(core)] = true;
    scratch.clear();
    emit_gemm_reduction(l.kernel, l.reduction, core, scratch);
    for (const isa::Instruction& inst : scratch) {
      isa::Engine engine = inst.op == isa::Opcode::Signal || inst.op == isa::Opcode::Wait
                               ? static_cast<isa::Engine>(inst.operands[0].value)
                               : isa::opcode_info(inst.op).engine;
      queues[static_cast<size_t>(static_cast<int>(engine) - 1)].push_back(resolve_args(inst, args));
    }
    return true;
  };
  sim::TimingModel model(chip, timing);
  return sim::run_timing(model, static_cast<int>(l.reduction.cores.size()), work, shifted_observers);
}

}  // namespace

GemmTime time_gemm(const GemmLowering& l, const arch::ChipSpec& chip, std::span<sim::SimObserver* const> observers,
                   sim::TimingOptions timing) {
  GemmArgs args;
  args.b = align(l.kernel.a_bytes());
  args.out = args.b + align(l.kernel.b_bytes());
  std::vector<size_t> next(l.schedule.cores.size(), 0);  // per core: the next step to hand out
  std::vector<isa::Instruction> scratch;
  sim::WorkSource work = [&](int core, sim::EngineQueues& queues) {
    const std::vector<GemmStep>& steps = l.schedule.cores[static_cast<size_t>(core)];
    size_t& at = next[static_cast<size_t>(core)];
    if (at >= steps.size()) return false;
    // Up to the first load of a tile beyond the piece (a tile's finish follows the next one's first loads).
    int32_t last_tile = steps[at].tile + static_cast<int32_t>(kTilesPerPiece) - 1;
    auto load = [](GemmStep::Op op) { return op == GemmStep::Op::LoadA || op == GemmStep::Op::LoadB; };
    for (; at < steps.size() && (steps[at].tile <= last_tile || !load(steps[at].op)); ++at) {
      scratch.clear();
      l.emitter->emit(core, steps[at], scratch);
      auto& queue = queues[static_cast<size_t>(static_cast<int>(steps[at].engine()) - 1)];
      for (const isa::Instruction& inst : scratch) queue.push_back(resolve_args(inst, args));
    }
    return true;
  };
  sim::TimingModel model(chip, timing);
  GemmTime t;
  t.tiling = l.tiling;
  t.cycles = sim::run_timing(model, static_cast<int>(l.schedule.cores.size()), work, observers);
  if (!l.reduction.cores.empty()) t.cycles += time_reduction(l, chip, args, t.cycles, observers, timing);
  t.seconds = t.cycles / chip.clock_hz;
  arch::ChipFigures figures = arch::chip_figures(chip);
  double peak = l.kernel.matrix_dtype() == DType::F16 ? figures.fp16_flops_per_s : figures.bf16_flops_per_s;
  t.percent_of_peak = t.seconds > 0 ? 100 * l.kernel.flops() / (t.seconds * peak) : 0;
  return t;
}

GemmTime time_gemm(const GemmKernel& kernel, const arch::ChipSpec& chip, std::span<sim::SimObserver* const> observers,
                   sim::TimingOptions timing) {
  GemmLowerOptions options;
  options.program = false;
  if (timing.ideal_bandwidth) options.tiling = ideal_gemm_tiling(kernel, chip), options.unbounded_scratchpad = true;
  return time_gemm(*lower_gemm(kernel, chip, options), chip, observers, timing);
}

}  // namespace tessera::compiler
