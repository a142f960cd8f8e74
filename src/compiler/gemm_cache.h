// The program cache: a GEMM is lowered once per (kernel: shapes, dtypes, transposes, batch
// strides, accumulation; chip) and every later launch of the same kernel reuses the program,
// with its operand addresses set as kernel arguments (gemm_emit.h, set_gemm_args).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "compiler/cached_program.h"
#include "compiler/gemm_lowering.h"

namespace tessera::compiler {

class GemmProgramCache {
 public:
  // The program of `kernel` on `chip`, with `args`; lowered (and verified) on first use. The
  // program stays valid until the next call; its fingerprint is the lowering's, combined with
  // the arguments.
  CachedProgram program(const GemmKernel& kernel, const arch::ChipSpec& chip, const GemmArgs& args);

  int64_t hits() const;
  int64_t misses() const;

 private:
  mutable std::mutex mutex_;
  struct Entry {
    std::unique_ptr<GemmLowering> lowering;
    sim::ProgramFingerprint fingerprint;  // of the program with all arguments 0
  };
  std::map<std::string, Entry> lowered_;
  int64_t hits_ = 0, misses_ = 0;
};

}  // namespace tessera::compiler
