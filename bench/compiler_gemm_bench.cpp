// The compiler's GEMM programs (compiler/gemm_lowering.h) in timing-only runs: the 4096^3 bf16
// GEMM on t1 (target: >= 90 % of the chip's dense bf16 peak) and the 8192^3 bf16 GEMM on h20
// (target: 90-95 %), with the planner's tiling and the time each lowering took. With --stats,
// core 0's engines (compute and semaphore-wait cycles) and the matrix engine's longest waits.
// Usage: bench_compiler_gemm [--stats]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

#include "arch/chip_loader.h"
#include "compiler/gemm_timing.h"
#include "sim/stats.h"

namespace {

using namespace tessera;

struct Row {
  const char* chip;
  int64_t size;
  double low, high;  // target band, % of peak
};

constexpr size_t kPrintedWaits = 30;

// Core 0's matrix-engine waits on semaphores, longest first.
class MatrixWaits : public sim::SimObserver {
 public:
  void on_instruction(const sim::IssuedInstruction&, const sim::Interval&) override {}
  void on_blocked(int core, isa::Engine engine, double from, double to, bool) override {
    if (core == 0 && engine == isa::Engine::Matrix) waits.push_back({to - from, from});
  }
  std::vector<std::pair<double, double>> waits;  // (cycles, from)
};

void print_stats(const sim::Stats& stats, MatrixWaits& waits) {
  for (isa::Engine e : {isa::Engine::Dma, isa::Engine::Matrix, isa::Engine::Vector}) {
    const sim::EngineStats& s = stats.engine(0, e);
    std::printf("  core 0 %-6s %8lld instructions %12.0f compute %10.0f memory wait %10.0f semaphore wait\n",
                isa::engine_name(e), static_cast<long long>(s.instructions), s.compute_cycles, s.memory_wait_cycles,
                s.semaphore_wait_cycles);
  }
  std::sort(waits.waits.rbegin(), waits.waits.rend());
  std::printf("  core 0 matrix waits, longest first:");
  for (size_t i = 0; i < waits.waits.size() && i < kPrintedWaits; ++i)
    std::printf(" %.0f at %.0f;", waits.waits[i].first, waits.waits[i].second);
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  bool stats_wanted = argc > 1 && std::strcmp(argv[1], "--stats") == 0;
  bool all_met = true;
  std::printf("%-5s %6s  %-22s %12s %8s %10s\n", "chip", "size", "tile (m n k, chunks)", "cycles", "% peak", "target");
  for (const Row& row : {Row{"t1", 4096, 90, 100}, Row{"h20", 8192, 90, 95}}) {
    arch::ChipSpec chip = arch::load_chip(row.chip);
    compiler::GemmKernel kernel;
    kernel.m = kernel.n = kernel.k = row.size;
    compiler::GemmLowerOptions options;
    options.program = false;
    auto start = std::chrono::steady_clock::now();
    auto lowering = compiler::lower_gemm(kernel, chip, options);
    sim::Stats stats(chip);
    MatrixWaits waits;
    sim::SimObserver* observers[] = {&stats, &waits};
    compiler::GemmTime t = compiler::time_gemm(*lowering, chip, observers);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    bool met = t.percent_of_peak >= row.low && t.percent_of_peak <= row.high;
    all_met = all_met && met;
    const compiler::GemmTiling& g = lowering->tiling;
    std::printf("%-5s %6lld  %5lld %4lld %4lld, %-6lld %12.0f %7.2f%% %4.0f-%-3.0f%s   (%.1f s)\n", row.chip,
                static_cast<long long>(row.size), static_cast<long long>(g.m), static_cast<long long>(g.n),
                static_cast<long long>(g.k), static_cast<long long>(g.chunks), t.cycles, t.percent_of_peak, row.low,
                row.high, met ? " " : "!", seconds);
    if (stats_wanted) print_stats(stats, waits);
  }
  std::printf("targets met: %s\n", all_met ? "yes" : "NO");
  return all_met ? 0 : 1;
}
