// A 128-bit fingerprint of a program: every core's instruction stream (opcodes and operands,
// not assembly line numbers). Two programs with the same fingerprint behave the same on a chip,
// so what a run of one found out (its timing, whether it runs in program order) holds for the
// other. 128 bits: a collision among the programs of a run is not a practical concern.
#pragma once
#include <cstddef>
#include <cstdint>

#include "isa/isa.h"

namespace tessera::sim {

struct ProgramFingerprint {
  uint64_t first = 0, second = 0;
  bool operator==(const ProgramFingerprint&) const = default;
};

ProgramFingerprint fingerprint(const isa::Program& program);

struct ProgramFingerprintHash {
  size_t operator()(const ProgramFingerprint& f) const { return static_cast<size_t>(f.first); }
};

}  // namespace tessera::sim
