// Detection of the CPU's fp32 peak (see cpu_peak.h).
#include "backends/cpu/cpu_peak.h"

// GCC 12 misreports its own AVX-512 intrinsics as reading uninitialised values once inlined.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <fmt/format.h>
#include <fstream>
#include <thread>

namespace tessera {

namespace {

// fp32 FMAs per second of one core running 8 independent vector FMA chains: the best of
// several short trials, so that a busy moment of the machine does not lower it.
double measured_fmas_per_second(int lanes) {
#if defined(__AVX512F__)
  (void)lanes;
  double best = 0.0;
  for (int trial = 0; trial < 8; ++trial) {
    __m512 acc[8];
    for (int i = 0; i < 8; ++i) acc[i] = _mm512_set1_ps(0.001f * static_cast<float>(i));
    __m512 x = _mm512_set1_ps(0.9999f), y = _mm512_set1_ps(1e-6f);
    const int64_t steps = 1'000'000;
    auto start = std::chrono::steady_clock::now();
    for (int64_t s = 0; s < steps; ++s) {
      for (auto& a : acc) a = _mm512_fmadd_ps(a, x, y);
      __asm__ volatile("" : "+v"(acc[0]));
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    float sink = 0.0f;
    for (auto& a : acc) sink += _mm512_reduce_add_ps(a);
    __asm__ volatile("" : : "x"(sink));
    best = std::max(best, static_cast<double>(steps) * 8 * 16 / seconds);
  }
  return best;
#else
  (void)lanes;
  return 0.0;  // not measured: the nominal clock is used
#endif
}

}  // namespace

CpuPeak detect_cpu_peak() {
  std::ifstream in("/proc/cpuinfo");
  std::string line, vendor;
  bool avx512 = false, avx2 = false;
  double mhz = 0.0, bogomips = 0.0;
  auto value = [](const std::string& l) { return l.substr(l.find(':') + 1); };
  while (std::getline(in, line)) {
    if (line.rfind("vendor_id", 0) == 0) vendor = value(line);
    if (line.rfind("cpu MHz", 0) == 0) mhz = std::max(mhz, std::stod(value(line)));
    if (line.rfind("bogomips", 0) == 0) bogomips = std::stod(value(line));
    if (line.rfind("flags", 0) == 0) {
      avx512 = line.find(" avx512f") != std::string::npos;
      avx2 = line.find(" avx2") != std::string::npos;
    }
  }
  CpuPeak peak;
  peak.cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  bool amd = vendor.find("AMD") != std::string::npos;
  peak.fma_lanes_per_cycle = avx512 && !amd ? 32 : (avx2 || avx512) ? 16 : 8;
  peak.nominal_ghz = mhz > 0.0 ? mhz / 1000.0 : bogomips > 0.0 ? bogomips / 2000.0 : 1.0;
  double fmas = measured_fmas_per_second(peak.fma_lanes_per_cycle);
  peak.measured_ghz = fmas / peak.fma_lanes_per_cycle / 1e9;
  peak.basis = fmt::format("{} cores x {} fp32 FMA lanes/cycle ({}{}) x 2 x {:.2f} GHz ({})", peak.cores,
                           peak.fma_lanes_per_cycle, amd ? "AMD" : "Intel", avx512 ? ", AVX-512" : avx2 ? ", AVX2" : "",
                           peak.clock_ghz(),
                           peak.measured_ghz > 0.0 ? fmt::format("measured; nominal {:.2f} GHz", peak.nominal_ghz)
                                                   : "nominal, not measured");
  return peak;
}

}  // namespace tessera
