// One launch of a chip kernel (chip_kernels*.cpp): it holds the backend's launch lock for its
// lifetime, hands its programs the HBM addresses of their operands, runs the programs on the
// device under the kernel's name and copies results back where needed.
//
// An operand that lies in the chip's HBM (a tensor of this backend) in the layout and dtype the
// program wants is used where it lies; any other (a strided view, another dtype, host bytes) is
// staged: packed into the launch's workspace, which lies above every allocation. A result the
// program cannot write where it belongs goes to the workspace and is copied into place after
// the next run (result(), output(), write_to(), update()), or when fetched. Operands used in
// place must not overlap one the program writes (the launch then stages one of them), and with
// TESSERA_CHECK_OPERANDS set every run checks that the operands it only reads are unchanged.
#pragma once
#include <mutex>
#include <optional>
#include <vector>

#include "backends/chip/chip_backend.h"

namespace tessera {

class ChipBackend::Launch {
 public:
  using Plan = compiler::ElementwisePlan;

  Launch(ChipBackend& backend, Kernel kernel);

  // Operands the program reads; each returns its HBM address (input: as a plan input).
  int64_t stage(const void* host, int64_t bytes) { return b_.stage(hbm_, host, bytes); }
  int64_t stage_f32(const View& v) { return b_.stage_f32(hbm_, v); }
  int64_t stage_as(const View& v, DType dtype) { return b_.stage_as(hbm_, v, dtype); }
  Plan::Input input(const View& v, Plan::Layout layout) { return b_.stage_input(hbm_, v, layout); }
  // Room in the workspace for `bytes` that a program writes.
  int64_t place(int64_t bytes) { return b_.place_staged(hbm_, bytes); }

  // Room for dst's elements stored as `dtype`: dst itself, or copied into dst (fetch_as) after
  // the next run.
  int64_t result(const View& dst, DType dtype);
  // A plan output: `slot` stored as `dtype` (dst's own unless given; a narrower float is
  // rounded on the chip) into a result() for dst.
  void output(Plan& p, int slot, const View& dst) { output(p, slot, dst, dst.dtype); }
  void output(Plan& p, int slot, const View& dst, DType dtype);
  // A plan output of a slot's (rows x 1) values, in f32, into a result() for dst.
  void row_output(Plan& p, int slot, const View& dst);
  // `bytes` the program writes that belong at `host`: there, or copied there after the next run.
  int64_t write_to(void* host, int64_t bytes);
  // The HBM address of `bytes` at `host` that the program writes in place (some of them, at
  // strides), or nothing when they cannot be used in place.
  std::optional<int64_t> write_in_place(void* host, int64_t bytes) { return b_.in_place(hbm_, host, bytes, Use::Write); }
  // Arrays the program reads and writes, end to end as `dtype`: in place, or staged and copied
  // back after the next run.
  int64_t update(std::span<const View> vs, DType dtype);
  int64_t update(const View& v, DType dtype) { return update(std::span<const View>(&v, 1), dtype); }
  int64_t update(void* host, int64_t bytes);

  // Runs a program (or a plan's elementwise program, its constants as kernel arguments), then
  // copies back the pending results.
  void run(const isa::Program& program, const runtime::KernelArguments& arguments = {},
           const std::optional<sim::ProgramFingerprint>& fingerprint = std::nullopt);
  void run(const compiler::CachedProgram& cached) { run(cached.program, {}, cached.fingerprint); }
  void run(const Plan& plan);

  // Copies back now (nothing to copy when `host` is the HBM at the address).
  void fetch(void* host, int64_t hbm_addr, int64_t bytes) { b_.fetch(host, hbm_addr, bytes); }
  void fetch_as(const View& dst, int64_t hbm_addr, DType dtype) { b_.fetch_as(dst, hbm_addr, dtype); }

 private:
  struct Result {
    View dst;
    int64_t hbm_addr = 0;
    DType dtype = DType::F32;  // as stored in HBM
  };
  struct Bytes {
    void* host = nullptr;
    int64_t hbm_addr = 0, bytes = 0;
  };

  ChipBackend& b_;
  Kernel kernel_;
  std::lock_guard<std::mutex> lock_;
  Staging hbm_;
  std::vector<Result> pending_;
  std::vector<Bytes> pending_bytes_;
};

}  // namespace tessera
