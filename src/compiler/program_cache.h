// The program cache of the chip kernels that have no cache of their own (attention, conv,
// pooling, embedding, reductions, scatter_along): a program is built once per key (the
// builder's name, the chip's chip_key and every argument of the builder, program_key.h) and
// every later launch with the same key gets the same program and its fingerprint, so that it
// neither rebuilds nor rehashes it. Thread-safe; bounded: beyond kMaxEntries programs or
// kMaxInstructions instructions in all (shapes or ids that keep changing) it starts again.
#pragma once
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "arch/chip.h"
#include "compiler/cached_program.h"

namespace tessera::compiler {

class ProgramCache {
 public:
  // The program `build` makes on `chip` from the arguments whose key is `arguments`; `build`
  // runs only on a miss. `op` names the builder. The program stays valid until the next call.
  CachedProgram program(const arch::ChipSpec& chip, std::string_view op, const std::string& arguments,
                        const std::function<isa::Program()>& build);

  int64_t hits() const;
  int64_t misses() const;

  static constexpr size_t kMaxEntries = 1024;
  static constexpr int64_t kMaxInstructions = int64_t{1} << 22;

 private:
  struct Entry {
    isa::Program program;
    sim::ProgramFingerprint fingerprint;
  };
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> built_;
  int64_t instructions_ = 0;  // in all of built_'s programs
  int64_t hits_ = 0, misses_ = 0;
};

}  // namespace tessera::compiler
