// A 128-bit fingerprint of a program: every core's instruction stream (opcodes and operands,
// not assembly line numbers). Two programs with the same fingerprint behave the same on a chip,
// so what a run of one found out (its timing and statistics) holds for the other. 128 bits: a
// collision among the programs of a run is not a practical concern.
#pragma once
#include <cstddef>
#include <cstdint>
#include <initializer_list>

#include "isa/isa.h"

namespace tessera::sim {

struct ProgramFingerprint {
  uint64_t first = 0, second = 0;
  bool operator==(const ProgramFingerprint&) const = default;
};

ProgramFingerprint fingerprint(const isa::Program& program);

// The fingerprint of one program of a family whose members differ only in `values` patched
// into them (a cached GEMM program's operand addresses): `base` is the family's, computed once.
ProgramFingerprint fingerprint(const ProgramFingerprint& base, std::initializer_list<int64_t> values);

struct ProgramFingerprintHash {
  size_t operator()(const ProgramFingerprint& f) const { return static_cast<size_t>(f.first); }
};

}  // namespace tessera::sim
