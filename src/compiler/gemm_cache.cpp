// The GEMM program cache (see gemm_cache.h).
#include "compiler/gemm_cache.h"

#include "compiler/chip_key.h"

namespace tessera::compiler {

const isa::Program& GemmProgramCache::program(const GemmKernel& kernel, const arch::ChipSpec& chip,
                                              const GemmArgs& args) {
  std::string key = to_string(kernel) + " on " + chip_key(chip);
  std::lock_guard lock(mutex_);
  auto it = lowered_.find(key);
  if (it == lowered_.end()) {
    ++misses_;
    it = lowered_.emplace(key, lower_gemm(kernel, chip)).first;
  } else {
    ++hits_;
  }
  set_gemm_args(it->second->program, args);
  return it->second->program;
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
