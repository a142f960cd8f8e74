// Devices and programs for the runtime tests: a T1 with a small HBM, and a GEMM program whose
// operands are allocated on the device.
#pragma once
#include <string>
#include <vector>

#include "arch/chip_loader.h"
#include "runtime/device.h"
#include "sim/tiled_gemm.h"

namespace tessera::runtime::test {

inline arch::ChipSpec small_t1(const std::string& hbm = "1MiB") {
  std::vector<std::string> overrides = {"hbm.capacity=" + hbm};
  return arch::load_chip("t1", overrides);
}

// C (n x n, f32) = A @ B (bf16, zeros) on the device's HBM, in 64 x 64 x 64 tiles.
inline isa::Program gemm_on(Device& device, int64_t n) {
  sim::TiledGemm gemm;
  gemm.m = gemm.n = gemm.k = n;
  gemm.tile_m = gemm.tile_n = gemm.tile_k = 64;
  gemm.a_addr = device.allocate(n * n * 2);
  gemm.b_addr = device.allocate(n * n * 2);
  gemm.c_addr = device.allocate(n * n * 4);
  return sim::tiled_gemm_program(device.chip(), gemm);
}

}  // namespace tessera::runtime::test
