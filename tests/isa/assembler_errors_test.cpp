// Malformed assembly: every error names FILE:LINE:COLUMN, what was expected and what was found.
#include <gtest/gtest.h>

#include "isa/assembler.h"
#include "isa_test_util.h"

namespace tessera::isa {
namespace {

std::string assemble_error(const std::string& text) {
  return testing::error_text([&] { assemble(text, "bad.s"); });
}

TEST(AssemblerErrors, UnknownMnemonicSuggestsTheClosest) {
  EXPECT_EQ(assemble_error("li r1, 0\n  mmaa spm[0], spm[0], spm[0], 1, 1, 1, bf16, overwrite"),
            "bad.s:2:3: expected a mnemonic (did you mean 'mma'?), found 'mmaa'");
  EXPECT_EQ(assemble_error("dma.cpy hbm[0], hbm[8], 1, 1, 1, 1"),
            "bad.s:1:1: expected a mnemonic (did you mean 'dma.copy'?), found 'dma.cpy'");
  EXPECT_EQ(assemble_error(", r1"), "bad.s:1:1: expected a mnemonic or a directive, found ','");
}

TEST(AssemblerErrors, WrongOperandCountSaysHowManyAreExpected) {
  EXPECT_EQ(assemble_error("addi r1, r2"), "bad.s:1:12: expected 3 operands for addi (rd, rs, imm), found 2");
  EXPECT_EQ(assemble_error("loop 1, 2"), "bad.s:1:9: expected 1 operand for loop (count), found 2");
  EXPECT_EQ(assemble_error("barrier now"), "bad.s:1:9: expected end of line (barrier takes no operands), found 'now'");
  EXPECT_EQ(assemble_error("li r1,"), "bad.s:1:7: expected an integer (64-bit) or a .equ name for imm, found end of line");
}

TEST(AssemblerErrors, RegistersAndIntegers) {
  EXPECT_EQ(assemble_error("li r16, 1"), "bad.s:1:4: expected a register r0..r15 for rd, found 'r16'");
  EXPECT_EQ(assemble_error("li x1, 1"), "bad.s:1:4: expected a register r0..r15 for rd, found 'x1'");
  EXPECT_EQ(assemble_error("li r1, 12abc"), "bad.s:1:8: expected an integer (64-bit) or a .equ name for imm, found '12abc'");
  EXPECT_EQ(assemble_error("li r1, 9223372036854775808"),
            "bad.s:1:8: expected an integer (64-bit) or a .equ name for imm, found '9223372036854775808'");
  EXPECT_EQ(assemble_error("li r1, SIZE"), "bad.s:1:8: expected an integer (64-bit) or a .equ name for imm, found 'SIZE'");
}

TEST(AssemblerErrors, UnknownEnumValueListsTheValidOnes) {
  EXPECT_EQ(assemble_error("vfill spm[0], 1.0, 1, 1, fp32"),
            "bad.s:1:26: expected a dtype (f32, bf16, f16, f8e4m3, f8e5m2, i32, i64) for dtype, found 'fp32'");
  EXPECT_EQ(assemble_error("signal scalar, 0"), "bad.s:1:8: expected an engine (dma, matrix, vector) for engine, found 'scalar'");
  EXPECT_EQ(assemble_error("vunary tanh, spm[0], spm[0], 1, 1, f32"),
            "bad.s:1:8: expected a unary function (relu, gelu, exp, log, neg, sqrt, recip, copy) for fn, found 'tanh'");
  EXPECT_EQ(assemble_error("vbinary add, spm[0], spm[0], spm[0], 1, 1, f32, rows"),
            "bad.s:1:49: expected a broadcast (none, row, col, scalar) for bcast, found 'rows'");
}

TEST(AssemblerErrors, Addresses) {
  const std::string tail = ", 0.0, 1, 1, f32";
  EXPECT_EQ(assemble_error("vfill dram[0]" + tail),
            "bad.s:1:7: expected an address (hbm[...], l2[...], spm[...] or spm@N[...]) for dst, found 'dram'");
  EXPECT_EQ(assemble_error("vfill hbm@1[0]" + tail), "bad.s:1:10: expected '[' after hbm (only spm takes @core), found '@'");
  EXPECT_EQ(assemble_error("vfill spm@x[0]" + tail), "bad.s:1:11: expected a core number 0..32767 after 'spm@', found 'x'");
  EXPECT_EQ(assemble_error("vfill spm 0]" + tail), "bad.s:1:11: expected '[', found '0'");
  EXPECT_EQ(assemble_error("vfill spm[r1*2]" + tail), "bad.s:1:13: expected ']', found '*'");
  EXPECT_EQ(assemble_error("vfill spm[r1+x]" + tail),
            "bad.s:1:14: expected an integer (64-bit) or a .equ name for the address offset, found 'x'");
  EXPECT_EQ(assemble_error("vfill spm[r99]" + tail), "bad.s:1:11: expected a register r0..r15, found 'r99'");
  EXPECT_EQ(assemble_error("vfill spm[]" + tail),
            "bad.s:1:11: expected an integer (64-bit) or a .equ name for the address offset, found ']'");
  EXPECT_EQ(assemble_error("vfill spm[0]x" + tail), "bad.s:1:13: expected the end of the address, found 'x'");
}

TEST(AssemblerErrors, FloatImmediates) {
  EXPECT_EQ(assemble_error("vfill spm[0], 1e39, 1, 1, f32"),
            "bad.s:1:15: expected an f32 value (e.g. 0.5, -1e-3, inf, nan) for value, found '1e39'");
  EXPECT_EQ(assemble_error("vfill spm[0], 0.5f, 1, 1, f32"),
            "bad.s:1:15: expected an f32 value (e.g. 0.5, -1e-3, inf, nan) for value, found '0.5f'");
  EXPECT_EQ(assemble_error("vfill spm[0], nan(0x3f800000), 1, 1, f32"),
            "bad.s:1:15: expected nan(0x<f32 NaN bits>) for value, found 'nan(0x3f800000)'");
}

TEST(AssemblerErrors, Directives) {
  EXPECT_EQ(assemble_error(".core 1\nli r1, 0\n.core 1"),
            "bad.s:3:7: expected a core not started before (core 1 started on line 1), found '1'");
  EXPECT_EQ(assemble_error("li r1, 0\n.core 0"), "bad.s:2:7: expected a core not started before (core 0 started on line 1), found '0'");
  EXPECT_EQ(assemble_error(".core 32768"), "bad.s:1:7: expected a core number 0..32767, found '32768'");
  EXPECT_EQ(assemble_error(".core"), "bad.s:1:6: expected one core number after .core, found end of line");
  EXPECT_EQ(assemble_error(".cores 1"), "bad.s:1:1: expected a directive (.core, .equ), found '.cores'");
  EXPECT_EQ(assemble_error(".equ r3, 4"), "bad.s:1:6: expected a name for .equ (not a register), found 'r3'");
  EXPECT_EQ(assemble_error(".equ A, 4\n.equ A, 5"),
            "bad.s:2:6: expected a name not defined before (.equ A is already defined), found 'A'");
  EXPECT_EQ(assemble_error(".equ A"), "bad.s:1:5: expected '.equ NAME, VALUE', found 'A'");
}

TEST(AssemblerErrors, EquatesAndCommentsWork) {
  Program p = assemble(".equ A, 0x40  ; comment\n.equ B, A\nli r1, B # more\naddi r2, r1, -A", "ok.s");
  ASSERT_EQ(p.cores.size(), 1u);
  EXPECT_EQ(p.cores[0][0].operands[1].value, 0x40);
  EXPECT_EQ(p.cores[0][1].operands[2].value, -0x40);
  Program q = assemble(".equ OFF, 8\nvfill spm[r1-OFF], 0, 1, 1, f32", "ok.s");
  EXPECT_EQ(q.cores[0][0].operands[0].addr.offset, -8);
}

}  // namespace
}  // namespace tessera::isa
