// One launch of a chip kernel (chip_kernels*.cpp): it holds the backend's launch lock for its
// lifetime, stages operands into the launch's HBM workspace (ChipBackend's stage functions, in
// call order from address 0), runs programs on the device under the kernel's name and copies
// results back: those declared by result() or output() right after the next run, others when
// fetched.
#pragma once
#include <mutex>
#include <vector>

#include "backends/chip/chip_backend.h"

namespace tessera {

class ChipBackend::Launch {
 public:
  using Plan = compiler::ElementwisePlan;

  Launch(ChipBackend& backend, Kernel kernel) : b_(backend), kernel_(kernel), lock_(backend.launch_mutex_) {}

  // Operands into HBM; each returns its address (input: as a plan input).
  int64_t stage(const void* host, int64_t bytes) { return b_.stage(hbm_, host, bytes); }
  int64_t stage_f32(const View& v) { return b_.stage_f32(hbm_, v); }
  int64_t stage_f32(std::span<const View> vs) { return b_.stage_f32(hbm_, vs); }  // end to end, no gaps
  int64_t stage_as(const View& v, DType dtype) { return b_.stage_as(hbm_, v, dtype); }
  Plan::Input input(const View& v, Plan::Layout layout) { return b_.stage_input(hbm_, v, layout); }
  // Room for `bytes` that a program writes.
  int64_t place(int64_t bytes) { return hbm_.place(bytes); }

  // Room for dst's elements stored as `dtype`, copied into dst (fetch_as) after the next run.
  int64_t result(const View& dst, DType dtype);
  // A plan output: `slot` stored as `dtype` (dst's own unless given; a narrower float is
  // rounded on the chip) into a result() for dst.
  void output(Plan& p, int slot, const View& dst) { output(p, slot, dst, dst.dtype); }
  void output(Plan& p, int slot, const View& dst, DType dtype);
  // A plan output of a slot's (rows x 1) values, in f32, into a result() for dst.
  void row_output(Plan& p, int slot, const View& dst);

  // Runs a program (or a plan's elementwise program, its constants as kernel arguments), then
  // copies back the pending results.
  void run(const isa::Program& program, const runtime::KernelArguments& arguments = {},
           const std::optional<sim::ProgramFingerprint>& fingerprint = std::nullopt);
  void run(const compiler::CachedProgram& cached) { run(cached.program, {}, cached.fingerprint); }
  void run(const Plan& plan);

  // Copies back now.
  void fetch(void* host, int64_t hbm_addr, int64_t bytes) { b_.fetch(host, hbm_addr, bytes); }
  void fetch_as(const View& dst, int64_t hbm_addr, DType dtype) { b_.fetch_as(dst, hbm_addr, dtype); }

 private:
  struct Result {
    View dst;
    int64_t hbm_addr = 0;
    DType dtype = DType::F32;  // as stored in HBM
  };

  ChipBackend& b_;
  Kernel kernel_;
  std::lock_guard<std::mutex> lock_;
  Staging hbm_;
  std::vector<Result> pending_;
};

}  // namespace tessera
