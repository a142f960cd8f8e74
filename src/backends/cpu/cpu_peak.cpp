// Detection of the CPU's fp32 peak (see cpu_peak.h).
#include "backends/cpu/cpu_peak.h"

#include <fmt/format.h>
#include <fstream>
#include <thread>

namespace tessera {

CpuPeak detect_cpu_peak() {
  std::ifstream in("/proc/cpuinfo");
  std::string line, vendor;
  bool avx512 = false, avx2 = false;
  int family = 0;
  double mhz = 0.0, bogomips = 0.0;
  auto value = [](const std::string& l) { return l.substr(l.find(':') + 1); };
  while (std::getline(in, line)) {
    if (line.rfind("vendor_id", 0) == 0) vendor = value(line);
    if (line.rfind("cpu family", 0) == 0) family = std::stoi(value(line));
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
  peak.clock_ghz = mhz > 0.0 ? mhz / 1000.0 : bogomips > 0.0 ? bogomips / 2000.0 : 1.0;
  peak.basis = fmt::format("{} cores x {} fp32 FMA lanes/cycle ({}{}) x 2 x {:.2f} GHz ({})", peak.cores,
                           peak.fma_lanes_per_cycle, amd ? "AMD family " + std::to_string(family) : "Intel",
                           avx512 ? ", AVX-512" : avx2 ? ", AVX2" : "", peak.clock_ghz,
                           mhz > 0.0 ? "cpu MHz" : "TSC rate, bogomips / 2");
  return peak;
}

}  // namespace tessera
