// The host CPU's fp32 peak: cores x fp32 FMA lanes per cycle x 2 x clock. Printed beside
// every CPU throughput figure so that the distance to the hardware limit is visible.
#pragma once
#include <string>

namespace tessera {

struct CpuPeak {
  int cores = 1;
  int fma_lanes_per_cycle = 8;   // fp32 FMAs a core retires per cycle
  double nominal_ghz = 1.0;      // from /proc/cpuinfo
  double measured_ghz = 0.0;     // from a timed FMA loop; 0 when not measured
  std::string basis;             // how the figures were obtained, for the report
  double clock_ghz() const { return measured_ghz > 0.0 ? measured_ghz : nominal_ghz; }
  double gflops() const { return cores * fma_lanes_per_cycle * 2.0 * clock_ghz(); }
};

// Reads /proc/cpuinfo (vendor and flags decide the FMA lanes: AMD Zen 2-4 retire two 256-bit
// FMAs per cycle = 16 lanes; Intel with AVX-512 two 512-bit = 32; AVX2 otherwise 16) and
// measures the clock the cores really run at (turbo included) with a dependent-free FMA loop
// on one core: the best of several short trials. The nominal "cpu MHz" of a virtual machine
// is often the TSC rate, far below the turbo clock.
CpuPeak detect_cpu_peak();

}  // namespace tessera
