// Devices and programs for the runtime tests: a T1 with a small HBM, and a GEMM program whose
// operands are allocated on the device.
#pragma once
#include <string>
#include <vector>

#include "arch/chip_loader.h"
#include "runtime/device.h"
#include "compiler/gemm_lowering.h"

namespace tessera::runtime::test {

inline arch::ChipSpec small_t1(const std::string& hbm = "1MiB") {
  std::vector<std::string> overrides = {"hbm.capacity=" + hbm};
  return arch::load_chip("t1", overrides);
}

// C (n x n, f32) = A @ B (bf16, zeros) on the device's HBM, the compiler's GEMM program.
inline isa::Program gemm_on(Device& device, int64_t n) {
  compiler::GemmKernel kernel;
  kernel.m = kernel.n = kernel.k = n;
  kernel.a_dtype = kernel.b_dtype = DType::BF16, kernel.out_dtype = DType::F32;
  compiler::GemmArgs args;
  args.a = device.allocate(n * n * 2);
  args.b = device.allocate(n * n * 2);
  args.out = device.allocate(n * n * 4);
  std::unique_ptr<compiler::GemmLowering> lowering = compiler::lower_gemm(kernel, device.chip(), {});
  compiler::set_gemm_args(lowering->program, args);
  return lowering->program;
}

}  // namespace tessera::runtime::test
