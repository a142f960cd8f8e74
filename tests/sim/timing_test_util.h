// Helpers for the timing tests: one instruction through a fresh timing model, chips with
// overrides, and the simulator test helpers (instruction builders, error text).
#pragma once
#include "sim_test_util.h"
#include "sim/timing.h"

namespace tessera::sim::testing {

inline arch::ChipSpec chip(const std::string& name, std::vector<std::string> overrides = {}) {
  return arch::load_chip(name, overrides);
}

inline IssuedInstruction issued(isa::Engine engine, isa::Instruction inst, int core = 0) {
  return {core, engine, std::move(inst)};
}

// Cycles of `inst` alone on an idle chip.
inline Interval alone(const arch::ChipSpec& c, isa::Engine engine, const isa::Instruction& inst, bool ideal = false) {
  TimingModel model(c, {ideal});
  return model.schedule(issued(engine, inst), 0);
}

inline isa::Instruction mma_of(int64_t m, int64_t n, int64_t k, DType dtype = DType::BF16,
                               isa::AccMode mode = isa::AccMode::Overwrite) {
  return mma(spm(0), spm(0), spm(0), m, n, k, dtype, mode);
}

}  // namespace tessera::sim::testing
