// Cached GEMM and mma timings (see chip_timer.h).
#include "perf/chip_timer.h"

#include "base/error.h"
#include "compiler/gemm_timing.h"
#include "sim/timing.h"

namespace tessera::perf {

double ChipTimer::gemm_seconds(const GemmProblem& problem) {
  const arch::GemmShape& s = problem.shape;
  Key key{s.m, s.n, s.k, problem.input, problem.output};
  auto it = gemm_cache_.find(key);
  if (it != gemm_cache_.end()) return it->second;
  double seconds = 0;
  try {
    compiler::GemmKernel kernel;
    kernel.m = s.m, kernel.n = s.n, kernel.k = s.k;
    kernel.a_dtype = kernel.b_dtype = problem.input, kernel.out_dtype = problem.output;
    seconds = compiler::time_gemm(kernel, chip_).seconds;
  } catch (const Error& e) {
    fail("GEMM {}x{}x{} ({} inputs) on chip {}: {}", s.m, s.n, s.k, dtype_name(problem.input), chip_.name, e.what());
  }
  gemm_cache_.emplace(key, seconds);
  return seconds;
}

double ChipTimer::mma_cycles(int64_t m, int64_t n, int64_t k, DType input) {
  Key key{m, n, k, input, DType::F32};
  auto it = mma_cache_.find(key);
  if (it != mma_cache_.end()) return it->second;
  auto imm = [](int64_t v) { return isa::Operand{isa::OperandKind::Imm, v, {}}; };
  isa::Operand spm{isa::OperandKind::Addr, 0, {isa::Space::Spm, -1, -1, 0}};
  isa::Instruction mma{isa::Opcode::Mma,
                       {spm, spm, spm, imm(m), imm(n), imm(k), {isa::OperandKind::DType, static_cast<int64_t>(input), {}},
                        {isa::OperandKind::AccMode, static_cast<int64_t>(isa::AccMode::Accumulate), {}}},
                       0};
  sim::TimingModel model(chip_);
  double cycles = model.schedule({0, isa::Engine::Matrix, mma}, 0).end_cycle;
  mma_cache_.emplace(key, cycles);
  return cycles;
}

}  // namespace tessera::perf
