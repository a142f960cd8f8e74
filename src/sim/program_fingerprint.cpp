// Program fingerprints (see program_fingerprint.h).
#include "sim/program_fingerprint.h"

namespace tessera::sim {

namespace {

// Four lanes, each word going to the next lane in turn, so that the multiplications of
// consecutive words overlap; the lanes are folded into the two halves at the end.
class Hasher {
 public:
  void add(uint64_t v) {
    uint64_t& h = lanes_[next_];
    next_ = (next_ + 1) & 3;
    h = (h ^ v) * 0x9e3779b97f4a7c15ull;
    h ^= h >> 29;
  }
  ProgramFingerprint result() const {
    uint64_t first = 0x6a09e667f3bcc909ull, second = 0xbb67ae8584caa73bull;
    for (uint64_t lane : lanes_) {
      first = fold(first ^ lane, 0xff51afd7ed558ccdull);
      second = fold(second + lane, 0xc4ceb9fe1a85ec53ull);
    }
    return {first, second};
  }

 private:
  static uint64_t fold(uint64_t h, uint64_t multiplier) {
    h *= multiplier;
    return h ^ (h >> 33);
  }
  uint64_t lanes_[4] = {0x243f6a8885a308d3ull, 0x13198a2e03707344ull, 0xa4093822299f31d0ull, 0x082efa98ec4e6c89ull};
  unsigned next_ = 0;
};

}  // namespace

ProgramFingerprint fingerprint(const isa::Program& program) {
  Hasher h;
  h.add(program.cores.size());
  for (const std::vector<isa::Instruction>& stream : program.cores) {
    h.add(stream.size());
    for (const isa::Instruction& inst : stream) {
      h.add(static_cast<uint64_t>(inst.op) << 8 | inst.operands.size());
      for (const isa::Operand& o : inst.operands) {
        h.add(static_cast<uint64_t>(o.value));
        if (o.kind != isa::OperandKind::Addr) {
          h.add(static_cast<uint64_t>(o.kind));
          continue;
        }
        h.add(static_cast<uint64_t>(o.kind) | static_cast<uint64_t>(o.addr.space) << 8 |
              static_cast<uint64_t>(static_cast<uint16_t>(o.addr.core)) << 16 |
              static_cast<uint64_t>(static_cast<uint8_t>(o.addr.reg)) << 32);
        h.add(static_cast<uint64_t>(o.addr.offset));
      }
    }
  }
  return h.result();
}

}  // namespace tessera::sim
