// The host CPU's theoretical fp32 peak: cores x fp32 FMA lanes per cycle x 2 x clock. Printed
// beside every CPU throughput figure so that the distance to the hardware limit is visible.
#pragma once
#include <string>

namespace tessera {

struct CpuPeak {
  int cores = 1;
  int fma_lanes_per_cycle = 8;  // fp32 FMAs a core retires per cycle
  double clock_ghz = 1.0;
  std::string basis;  // how the figures were obtained, for the report
  double gflops() const { return cores * fma_lanes_per_cycle * 2.0 * clock_ghz; }
};

// Reads /proc/cpuinfo: vendor and family decide the FMA lanes (AMD Zen 2-4: two 256-bit FMA
// pipes = 16 lanes; Intel with AVX-512: two 512-bit pipes = 32; AVX2 otherwise: 16); the
// clock is the largest "cpu MHz" seen, or the TSC rate (bogomips / 2) under a hypervisor
// that reports none.
CpuPeak detect_cpu_peak();

}  // namespace tessera
