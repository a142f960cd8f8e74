// The compiler's GEMM programs (compiler/gemm_lowering.h) in timing-only runs: the 4096^3 bf16
// GEMM on t1 (target: >= 90 % of the chip's dense bf16 peak) and the 8192^3 bf16 GEMM on h20
// (target: 90-95 %), each beside the simulator's own tiled GEMM program (sim/gemm_program.h)
// timed in the same process, with the planner's tiling and the time each lowering took.
// Usage: bench_compiler_gemm
#include <chrono>
#include <cstdio>

#include "arch/chip_loader.h"
#include "compiler/gemm_timing.h"
#include "sim/gemm_prediction.h"

namespace {

using namespace tessera;

struct Row {
  const char* chip;
  int64_t size;
  double low, high;  // target band, % of peak
};

}  // namespace

int main() {
  bool all_met = true;
  std::printf("%-5s %6s  %-22s %12s %8s %10s %12s\n", "chip", "size", "tile (m n k, chunks)", "cycles", "% peak",
              "target", "sim program");
  for (const Row& row : {Row{"t1", 4096, 90, 100}, Row{"h20", 8192, 90, 95}}) {
    arch::ChipSpec chip = arch::load_chip(row.chip);
    compiler::GemmKernel kernel;
    kernel.m = kernel.n = kernel.k = row.size;
    compiler::GemmLowerOptions options;
    options.program = false;
    auto start = std::chrono::steady_clock::now();
    auto lowering = compiler::lower_gemm(kernel, chip, options);
    compiler::GemmTime t = compiler::time_gemm(*lowering, chip);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    sim::GemmPrediction peer = sim::predict_gemm(chip, {{row.size, row.size, row.size}, DType::BF16, DType::BF16});
    double peer_percent = t.percent_of_peak * t.cycles / peer.cycles;
    bool met = t.percent_of_peak >= row.low && t.percent_of_peak <= row.high;
    all_met = all_met && met;
    const compiler::GemmTiling& g = lowering->tiling;
    std::printf("%-5s %6lld  %5lld %4lld %4lld, %-6lld %12.0f %7.2f%% %4.0f-%-3.0f%s %10.2f%%   (%.1f s)\n", row.chip,
                static_cast<long long>(row.size), static_cast<long long>(g.m), static_cast<long long>(g.n),
                static_cast<long long>(g.k), static_cast<long long>(g.chunks), t.cycles, t.percent_of_peak, row.low,
                row.high, met ? " " : "!", peer_percent, seconds);
  }
  std::printf("targets met: %s\n", all_met ? "yes" : "NO");
  return all_met ? 0 : 1;
}
