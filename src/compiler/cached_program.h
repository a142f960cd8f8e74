// A program handed out by a program cache, with its launch fingerprint
// (sim/program_fingerprint.h), so that a launch need not hash a program it has seen before.
#pragma once
#include "isa/isa.h"
#include "sim/program_fingerprint.h"

namespace tessera::compiler {

struct CachedProgram {
  const isa::Program& program;  // valid until the cache's next call
  sim::ProgramFingerprint fingerprint;
};

}  // namespace tessera::compiler
