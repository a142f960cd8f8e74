// The elementwise program cache: a plan's program is built once per plan structure (its shape,
// segments, inputs and their HBM addresses, ops, outputs and the number of its constants; not the
// constants' values, which travel as kernel arguments) and reused by every later launch of
// the same plan, with its fingerprint. A plan that draws random numbers is built every time and
// not kept: its seed and counter are in its program, which never repeats. The chip backend
// keeps one cache per chip.
#pragma once
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "compiler/cached_program.h"
#include "compiler/tile_program.h"

namespace tessera::compiler {

class ElementwiseProgramCache {
 public:
  struct Launch {
    CachedProgram cached;
    int64_t constants_addr = 0;      // scratchpad address of the plan's constants
    std::vector<uint8_t> constants;  // this plan's constants, f32 bytes
  };
  // The program of `plan` on `chip` (always the same chip for one cache); valid until the next
  // call.
  Launch program(const arch::ChipSpec& chip, const ElementwisePlan& plan);
  int64_t hits() const;
  int64_t misses() const;

 private:
  struct Entry {
    ElementwiseProgram built;
    sim::ProgramFingerprint fingerprint;
  };
  static Entry build(const arch::ChipSpec& chip, const ElementwisePlan& plan);
  // Beyond this many plans (shapes that keep changing) the cache starts again.
  static constexpr size_t kMaxEntries = 4096;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> built_;
  Entry once_;  // the last plan that is not kept
  int64_t hits_ = 0, misses_ = 0;
};

}  // namespace tessera::compiler
