// One launch of a chip kernel (see chip_launch.h).
#include "backends/chip/chip_launch.h"

#include "backends/chip/chip_plan_ops.h"

namespace tessera {

int64_t ChipBackend::Launch::result(const View& dst, DType dtype) {
  int64_t addr = hbm_.place(dst.numel() * static_cast<int64_t>(dtype_size(dtype)));
  pending_.push_back({dst, addr, dtype});
  return addr;
}

void ChipBackend::Launch::output(Plan& p, int slot, const View& dst, DType dtype) {
  chip_ops::add_output(p, slot, result(dst, dtype), dtype);
}

void ChipBackend::Launch::row_output(Plan& p, int slot, const View& dst) {
  p.outputs.push_back({slot, result(dst, DType::F32), DType::F32, true});
}

void ChipBackend::Launch::run(const isa::Program& program, const runtime::KernelArguments& arguments,
                              const std::optional<sim::ProgramFingerprint>& fingerprint) {
  b_.run(kernel_, program, arguments, fingerprint);
  for (const Result& r : pending_) b_.fetch_as(r.dst, r.hbm_addr, r.dtype);
  pending_.clear();
}

void ChipBackend::Launch::run(const Plan& plan) {
  compiler::ElementwiseProgramCache::Launch p = b_.elementwise_programs_.program(b_.chip(), plan);
  run(p.cached.program, {p.constants_addr, std::move(p.constants)}, p.cached.fingerprint);
}

}  // namespace tessera
