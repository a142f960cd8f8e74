// The functional simulator's speed on a 4096^3 bf16 GEMM for chip t1 (the compiler's program
// with an f32 output: 32 cores, tiles that fit the 1.5 MiB scratchpad, DMA from HBM, mma with
// accumulation, DMA of the result back),
// beside OpenBLAS sgemm (f32) of the same size on the same threads. Rounds alternate; the best
// of each is printed with their ratio (goal: simulator <= 2x sgemm) and the difference of the
// results.
//
// Usage: bench_sim_gemm [SIZE] [ROUNDS]   (defaults 4096 and 3; threads from OMP_NUM_THREADS,
// else 2). Idle OpenMP threads wait passively unless OMP_WAIT_POLICY says otherwise: spinning
// ones starve the busy ones on a shared machine.
#include <cblas.h>
#include <unistd.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "arch/chip_loader.h"
#include "base/dtype.h"
#include "base/random.h"
#include "compiler/gemm_lowering.h"
#include "sim/simulator.h"

namespace {

using namespace tessera;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

}  // namespace

int main(int argc, char** argv) {
  // libgomp reads OMP_WAIT_POLICY when it loads, so the choice takes a re-run of the program.
  if (!std::getenv("OMP_WAIT_POLICY")) {
    setenv("OMP_WAIT_POLICY", "passive", 1);
    execv("/proc/self/exe", argv);  // returns only on failure: then carry on as we are
  }
  int64_t size = argc > 1 ? std::atoll(argv[1]) : 4096;
  int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
  int threads = std::getenv("OMP_NUM_THREADS") ? std::atoi(std::getenv("OMP_NUM_THREADS")) : 2;
  omp_set_num_threads(threads);
  openblas_set_num_threads(threads);

  arch::ChipSpec chip = arch::load_chip("t1");
  compiler::GemmKernel kernel;
  kernel.m = kernel.n = kernel.k = size;
  kernel.out_dtype = DType::F32;
  int64_t elements = size * size;
  compiler::GemmArgs args{0, elements * 2, elements * 4};
  auto lowering = compiler::lower_gemm(kernel, chip);
  compiler::set_gemm_args(lowering->program, args);
  const isa::Program& program = lowering->program;
  const compiler::GemmTiling& tiling = lowering->tiling;

  // Inputs: bf16 in the simulated HBM, and the same values as f32 for sgemm.
  std::vector<uint16_t> a16(static_cast<size_t>(elements)), b16(a16.size());
  std::vector<float> a32(a16.size()), b32(a16.size()), c32(a16.size());
  for (size_t i = 0; i < a16.size(); ++i) {
    a16[i] = f32_to_bf16(random_normal(1, i));
    b16[i] = f32_to_bf16(random_normal(2, i));
    a32[i] = bf16_to_f32(a16[i]);
    b32[i] = bf16_to_f32(b16[i]);
  }
  sim::Simulator simulator(chip);
  simulator.memory().hbm().write(args.a, a16.data(), elements * 2);
  simulator.memory().hbm().write(args.b, b16.data(), elements * 2);

  double best_sim = 1e30, best_blas = 1e30;
  sim::SimResult result;
  for (int round = 0; round < rounds; ++round) {
    auto start = Clock::now();
    result = simulator.run(program);
    best_sim = std::min(best_sim, seconds_since(start));
    start = Clock::now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(size), static_cast<int>(size),
                static_cast<int>(size), 1.0f, a32.data(), static_cast<int>(size), b32.data(), static_cast<int>(size),
                0.0f, c32.data(), static_cast<int>(size));
    best_blas = std::min(best_blas, seconds_since(start));
  }

  std::vector<float> c_sim(a16.size());
  simulator.memory().hbm().read(args.out, c_sim.data(), elements * 4);
  double max_diff = 0, max_ref = 0;
  for (size_t i = 0; i < c_sim.size(); ++i) {
    max_diff = std::max(max_diff, static_cast<double>(std::fabs(c_sim[i] - c32[i])));
    max_ref = std::max(max_ref, static_cast<double>(std::fabs(c32[i])));
  }
  double flops = 2.0 * static_cast<double>(size) * static_cast<double>(size) * static_cast<double>(size);
  std::printf("bf16 GEMM %lldx%lldx%lld on chip t1, %d host threads, best of %d rounds\n",
              static_cast<long long>(size), static_cast<long long>(size), static_cast<long long>(size), threads,
              rounds);
  std::printf("  program: %zu cores, %lld instructions run (%lld mma), tiles %lldx%lldx%lld\n", program.cores.size(),
              static_cast<long long>(result.total_instructions()),
              static_cast<long long>(result.instructions[static_cast<size_t>(isa::Engine::Matrix)]),
              static_cast<long long>(tiling.m), static_cast<long long>(tiling.n), static_cast<long long>(tiling.k));
  std::printf("  simulator (functional): %8.3f s  %7.1f GFLOP/s\n", best_sim, flops / best_sim * 1e-9);
  std::printf("  OpenBLAS sgemm (f32):   %8.3f s  %7.1f GFLOP/s\n", best_blas, flops / best_blas * 1e-9);
  std::printf("  ratio simulator / sgemm: %.2f (goal <= 2.0)\n", best_sim / best_blas);
  std::printf("  max |simulator - sgemm| = %.3g (max |C| = %.3g)\n", max_diff, max_ref);
  return 0;
}
