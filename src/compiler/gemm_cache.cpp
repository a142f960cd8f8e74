// The GEMM program cache (see gemm_cache.h).
#include "compiler/gemm_cache.h"

#include "compiler/chip_key.h"

namespace tessera::compiler {

CachedProgram GemmProgramCache::program(const GemmKernel& kernel, const arch::ChipSpec& chip, const GemmArgs& args) {
  std::string key = to_string(kernel) + " on " + chip_key(chip);
  std::lock_guard lock(mutex_);
  auto it = lowered_.find(key);
  if (it == lowered_.end()) {
    ++misses_;
    Entry entry{lower_gemm(kernel, chip), {}};
    set_gemm_args(entry.lowering->program, {});
    entry.fingerprint = sim::fingerprint(entry.lowering->program);
    it = lowered_.emplace(key, std::move(entry)).first;
  } else {
    ++hits_;
  }
  isa::Program& program = it->second.lowering->program;
  set_gemm_args(program, args);
  return {program, sim::fingerprint(it->second.fingerprint, {args.a, args.b, args.out})};
}

int64_t GemmProgramCache::hits() const {
  std::lock_guard lock(mutex_);
  return hits_;
}

int64_t GemmProgramCache::misses() const {
  std::lock_guard lock(mutex_);
  return misses_;
}

}  // namespace tessera::compiler
