// Text and binary round trips: assemble -> disassemble -> assemble is the identity, on every
// opcode and on random programs; encode -> decode likewise; the canonical text of a known program.
#include <gtest/gtest.h>

#include "isa/assembler.h"
#include "isa/disassembler.h"
#include "isa/encoding.h"
#include "isa_test_util.h"

namespace tessera::isa {
namespace {

using testing::random_instruction;
using testing::random_program;
using testing::same_program;

TEST(RoundTrip, EveryOpcodeThroughTextAndBinary) {
  std::mt19937_64 rng(1);
  for (const OpcodeInfo& info : opcode_table()) {
    for (int trial = 0; trial < 50; ++trial) {
      Program program;
      program.cores.push_back({random_instruction(info.op, rng)});
      std::string text = disassemble(program);
      Program again = assemble(text, "t.s");
      ASSERT_TRUE(same_program(program, again)) << text;
      EXPECT_EQ(disassemble(again), text);
      ASSERT_TRUE(same_program(program, decode_program(encode_program(program), "t.bin"))) << text;
    }
  }
}

TEST(RoundTrip, RandomProgramsThroughTextAndBinary) {
  std::mt19937_64 rng(2);
  for (int trial = 0; trial < 200; ++trial) {
    Program program = random_program(rng, 1 + static_cast<int>(rng() % 4), 40);
    std::string text = disassemble(program, trial % 2 == 1);
    Program assembled = assemble(text, "random.s");
    ASSERT_TRUE(same_program(program, assembled)) << text;
    std::string bytes = encode_program(assembled);
    ASSERT_TRUE(same_program(program, decode_program(bytes, "random.bin")));
    EXPECT_EQ(encode_program(assemble(disassemble(decode_program(bytes, "random.bin")), "again.s")), bytes);
  }
}

TEST(RoundTrip, CanonicalTextOfAKnownProgram) {
  const char* source = R"(
; a double-buffered copy and one multiply
.equ TILE, 0x4000
li r1, 0            # hbm cursor
loop 4
  dma.copy spm[r2 + TILE], hbm[ r1 ], 64, 128, 128, 256
  addi r1, r1, 256
endloop
signal dma, 0
wait matrix, 0
mma spm[0x0], spm[TILE], spm[0x8000], 64, 64, 64, bf16, accumulate
vfill spm[-16], -0.5, 1, 4, f32
vconvert spm[r3-8], bf16, spm[0], f32, 2, 2, stochastic, r7
barrier
.core 2
dma.copy spm@1[0], l2[0x100], 1, 16, 16, 16
)";
  Program program = assemble(source, "known.s");
  ASSERT_EQ(program.cores.size(), 3u);
  EXPECT_EQ(program.cores[0][2].line, 6);
  EXPECT_EQ(disassemble(program),
            ".core 0\n"
            "  li r1, 0\n"
            "  loop 4\n"
            "    dma.copy spm[r2+0x4000], hbm[r1], 64, 128, 128, 256\n"
            "    addi r1, r1, 256\n"
            "  endloop\n"
            "  signal dma, 0\n"
            "  wait matrix, 0\n"
            "  mma spm[0x0], spm[0x4000], spm[0x8000], 64, 64, 64, bf16, accumulate\n"
            "  vfill spm[-0x10], -0.5, 1, 4, f32\n"
            "  vconvert spm[r3-0x8], bf16, spm[0x0], f32, 2, 2, stochastic, r7\n"
            "  barrier\n"
            "\n.core 1\n"
            "\n.core 2\n"
            "  dma.copy spm@1[0x0], l2[0x100], 1, 16, 16, 16\n");
  EXPECT_EQ(disassemble(program, true).substr(0, 48), ".core 0\n  li r1, 0  ; rd, imm\n  loop 4  ; count\n");
}

TEST(RoundTrip, OperandValuesAreReadAsWritten) {
  Program p = assemble("li r15, -0x8000000000000000\nvfill l2[r0-0x8000000000000000], nan(0x7f800001), 0, 0, bf16\n"
                       "vfill hbm[9223372036854775807], 1e-45, 0, 0, bf16\nvfill spm[0], -inf, 0, 0, i64",
                       "values.s");
  const auto& s = p.cores[0];
  EXPECT_EQ(s[0].operands[0].value, 15);
  EXPECT_EQ(s[0].operands[1].value, std::numeric_limits<int64_t>::min());
  EXPECT_EQ(s[1].operands[0].addr.space, Space::L2);
  EXPECT_EQ(s[1].operands[0].addr.reg, 0);
  EXPECT_EQ(s[1].operands[0].addr.offset, std::numeric_limits<int64_t>::min());
  EXPECT_EQ(s[1].operands[1].value, 0x7f800001);
  EXPECT_EQ(s[2].operands[0].addr.offset, std::numeric_limits<int64_t>::max());
  EXPECT_EQ(s[2].operands[1].value, 1);  // the smallest subnormal
  EXPECT_EQ(s[3].operands[1].value, 0xff800000);
  EXPECT_EQ(s[3].operands[4].value, static_cast<int64_t>(DType::I64));
}

TEST(RoundTrip, EmptyProgramAndEmptyCores) {
  EXPECT_EQ(assemble("", "e.s").cores.size(), 0u);
  EXPECT_EQ(assemble("; nothing\n\n", "e.s").cores.size(), 0u);
  Program p = assemble(".core 3\n", "e.s");
  EXPECT_EQ(p.cores.size(), 4u);
  EXPECT_TRUE(same_program(decode_program(encode_program(p), "e.bin"), p));
}

}  // namespace
}  // namespace tessera::isa
