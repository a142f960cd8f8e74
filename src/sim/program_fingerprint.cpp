// Program fingerprints (see program_fingerprint.h).
#include "sim/program_fingerprint.h"

#include <nmmintrin.h>

namespace tessera::sim {

namespace {

// Two lanes over the same words: CRC-32C (one instruction per word, position-sensitive) and a
// polynomial hash modulo 2^64; their latencies overlap, about 4 cycles a word.
class Hasher {
 public:
  void add(uint64_t word) {
    crc_ = _mm_crc32_u64(crc_, word);
    poly_ = (poly_ + word) * 0x9e3779b97f4a7c15ull;
  }
  ProgramFingerprint result() const {
    uint64_t first = poly_ ^ (poly_ >> 31), second = crc_ * 0xff51afd7ed558ccdull ^ poly_;
    return {first * 0xc4ceb9fe1a85ec53ull, second ^ (second >> 29)};
  }

 private:
  uint64_t crc_ = 0x243f6a88, poly_ = 0x13198a2e03707344ull;
};

// An instruction's opcode, operand count and operand kinds (4 bits each), in words.
void add_signature(Hasher& h, const isa::Instruction& inst) {
  uint64_t word = static_cast<uint64_t>(inst.op) | static_cast<uint64_t>(inst.operands.size()) << 8;
  int shift = 24;
  for (const isa::Operand& o : inst.operands) {
    if (shift == 64) h.add(word), word = 0, shift = 0;
    word |= static_cast<uint64_t>(o.kind) << shift;
    shift += 4;
  }
  h.add(word);
}

}  // namespace

ProgramFingerprint fingerprint(const isa::Program& program) {
  Hasher h;
  h.add(program.cores.size());
  for (const std::vector<isa::Instruction>& stream : program.cores) {
    h.add(stream.size());
    for (const isa::Instruction& inst : stream) {
      add_signature(h, inst);
      for (const isa::Operand& o : inst.operands) {
        if (o.kind != isa::OperandKind::Addr) {
          h.add(static_cast<uint64_t>(o.value));
          continue;
        }
        h.add(static_cast<uint64_t>(o.addr.offset));
        h.add(static_cast<uint64_t>(o.addr.space) | static_cast<uint64_t>(static_cast<uint16_t>(o.addr.core)) << 8 |
              static_cast<uint64_t>(static_cast<uint8_t>(o.addr.reg)) << 24 | static_cast<uint64_t>(o.value) << 32);
      }
    }
  }
  return h.result();
}

ProgramFingerprint fingerprint(const ProgramFingerprint& base, std::initializer_list<int64_t> values) {
  Hasher h;
  h.add(base.first);
  h.add(base.second);
  for (int64_t v : values) h.add(static_cast<uint64_t>(v));
  return h.result();
}

}  // namespace tessera::sim
