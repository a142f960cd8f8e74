// The a100 preset against measured A100 GEMM times (bench/data/a100_gemm.csv: fp16 GEMMs on an
// A100 80GB, LLMCompass): predicted time (the compiler's GEMM program through the timing model,
// compiler/gemm_timing.h, plus the GEMM-call overhead) beside the measured one, the error per
// row, and whether the rows with N and K >= 1024 are within 15 %.
// Usage: bench_a100_gemm [CSV]
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

#include "arch/chip_loader.h"
#include "compiler/gemm_timing.h"

int main(int argc, char** argv) {
  using namespace tessera;
  std::string path = argc > 1 ? argv[1] : TESSERA_SOURCE_DIR "/bench/data/a100_gemm.csv";
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "%s: cannot open\n", path.c_str());
    return 1;
  }
  arch::ChipSpec a100 = arch::load_chip("a100");
  std::printf("%6s %6s %6s  %-12s %12s %12s %8s %9s\n", "M", "N", "K", "tile", "measured us", "predicted us", "error",
              "TFLOPS");
  bool all_within = true;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    long m = 0, n = 0, k = 0;
    double latency = 0;
    char unit[8] = {};
    if (std::sscanf(line.c_str(), "%ld, %ld, %ld, %lf%2s", &m, &n, &k, &latency, unit) != 5) {
      std::fprintf(stderr, "%s: cannot read the row '%s'\n", path.c_str(), line.c_str());
      return 1;
    }
    double measured_s = latency * (std::string(unit) == "ms" ? 1e-3 : 1e-6);
    compiler::GemmKernel kernel;
    kernel.m = m, kernel.n = n, kernel.k = k;
    kernel.a_dtype = kernel.b_dtype = kernel.out_dtype = DType::F16;
    compiler::GemmTime t = compiler::time_gemm(kernel, a100);
    double seconds = t.seconds + a100.gemm_overhead_s();
    double error = seconds / measured_s - 1;
    bool target = n >= 1024 && k >= 1024;
    if (target && std::abs(error) > 0.15) all_within = false;
    std::printf("%6ld %6ld %6ld  %4ldx%ldx%-4ld %12.1f %12.1f %+7.1f%% %9.1f%s\n", m, n, k,
                static_cast<long>(t.tiling.m), static_cast<long>(t.tiling.n), static_cast<long>(t.tiling.k),
                measured_s * 1e6, seconds * 1e6, 100 * error, kernel.flops() / seconds / 1e12,
                target ? "" : "  (N or K < 1024)");
    std::fflush(stdout);
  }
  std::printf("rows with N and K >= 1024 within 15 %%: %s\n", all_within ? "yes" : "NO");
  return all_within ? 0 : 1;
}
