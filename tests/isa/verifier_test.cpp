// The verifier: for each rule, a program that breaks it and the message; programs that keep
// every rule (including loop-varying addresses up to the last iteration) pass.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "arch/chip_loader.h"
#include "isa/assembler.h"
#include "isa/verifier.h"
#include "isa_test_util.h"

namespace tessera::isa {
namespace {

// A small chip: 2 cores, 64 KiB scratchpads, 1 MiB L2, 16 MiB HBM, bf16 and fp16 inputs only.
const arch::ChipSpec& chip() {
  static const arch::ChipSpec spec = [] {
    std::vector<std::string> overrides = {"name=small", "cores=2", "scratchpad.size=64KiB", "l2.size=1MiB",
                                          "hbm.capacity=16MiB"};
    return arch::load_chip("p800-est", overrides);
  }();
  return spec;
}

std::vector<std::string> violations(const std::string& text) {
  std::vector<std::string> out;
  for (const Violation& v : find_violations(assemble(text, "v.s"), chip())) out.push_back(describe(v, "v.s"));
  return out;
}

// The one violation of `text`.
std::string only_violation(const std::string& text) {
  std::vector<std::string> found = violations(text);
  EXPECT_EQ(found.size(), 1u) << ::testing::PrintToString(found);
  return found.empty() ? "" : found[0];
}

TEST(Verifier, ValidProgramPasses) {
  const char* program = R"(
.core 0
  li r1, 0                      ; hbm cursor
  li r2, 0                      ; buffer offset, toggles between 0 and 0x2000
  loop 64
    wait dma, 1
    dma.copy spm[r2], hbm[r1], 64, 128, 128, 128
    signal dma, 0
    wait matrix, 0
    mma spm[0x8000], spm[r2], spm[0x4000], 64, 64, 64, bf16, accumulate
    signal matrix, 1
    addi r1, r1, 0x2000
    muli r2, r2, -1
    addi r2, r2, 0x2000
  endloop
  wait dma, 1
  signal dma, 1
  vunary relu, spm[0x8000], spm[0x8000], 64, 64, f32
  vconvert spm[0xc000], bf16, spm[0x8000], f32, 64, 64, stochastic, r3
  dma.copy spm@1[0], spm[0xc000], 64, 128, 128, 128
  barrier
.core 1
  barrier
)";
  // The last mma (iteration 63) ends at 0x8000 + 64*64*4 = 0xc000; the last copy reads up to 64 * 0x2000.
  EXPECT_EQ(violations(program), std::vector<std::string>{}) << program;
}

TEST(Verifier, ProgramWiderThanTheChip) {
  EXPECT_EQ(only_violation(".core 2\nbarrier\n.core 0\nbarrier\n.core 1\nbarrier"), "v.s: the program has 3 cores; chip small has 2");
}

TEST(Verifier, Loops) {
  EXPECT_EQ(only_violation("li r1, 0\nendloop"), "v.s:2: core 0, instruction 1 `endloop`: endloop without a matching loop");
  EXPECT_EQ(only_violation("loop 2\nloop 3\nendloop"), "v.s:1: core 0, instruction 0 `loop 2`: loop without a matching endloop");
  EXPECT_EQ(only_violation("loop 0\nendloop"), "v.s:1: core 0, instruction 0 `loop 0`: loop count 0 is below 1");
  std::string deep;
  for (int i = 0; i < 9; ++i) deep += "loop 1\n";
  for (int i = 0; i < 9; ++i) deep += "endloop\n";
  EXPECT_EQ(only_violation(deep), "v.s:9: core 0, instruction 8 `loop 1`: loops are nested deeper than 8");
  // Empty bodies and bodies of empty loops run "forever" without being followed one by one.
  EXPECT_EQ(violations("loop 9223372036854775807\nloop 9223372036854775807\nendloop\nendloop"), std::vector<std::string>{});
}

TEST(Verifier, CountsAndDtypes) {
  EXPECT_EQ(only_violation("vfill spm[0], 0, 0, 4, f32"), "v.s:1: core 0, instruction 0 `vfill spm[0x0], 0, 0, 4, f32`: rows = 0 is outside [1, 1099511627776]");
  EXPECT_EQ(only_violation("dma.copy l2[0], hbm[0], 16777217, 1, 1, 1"),
            "v.s:1: core 0, instruction 0 `dma.copy l2[0x0], hbm[0x0], 16777217, 1, 1, 1`: rows = 16777217 is outside [1, 16777216]");
  EXPECT_EQ(only_violation("mma spm[0], spm[0x1000], spm[0x2000], 8, 8, 8, f32, overwrite"),
            "v.s:1: core 0, instruction 0 `mma spm[0x0], spm[0x1000], spm[0x2000], 8, 8, 8, f32, overwrite`: dtype f32 is "
            "not a matrix input dtype (bf16, f16, f8e4m3, f8e5m2)");
  EXPECT_EQ(only_violation("mma spm[0], spm[0x1000], spm[0x2000], 8, 8, 8, f8e4m3, overwrite"),
            "v.s:1: core 0, instruction 0 `mma spm[0x0], spm[0x1000], spm[0x2000], 8, 8, 8, f8e4m3, overwrite`: chip small "
            "has no f8e4m3 matrix inputs (matrix.dtypes: bf16, fp16)");
  EXPECT_EQ(only_violation("vunary exp, spm[0], spm[0x100], 4, 4, i32"),
            "v.s:1: core 0, instruction 0 `vunary exp, spm[0x0], spm[0x100], 4, 4, i32`: dtype i32 is not a float dtype "
            "(vunary computes in f32)");
  EXPECT_EQ(only_violation("vscatter_add spm[0], spm[0x100], spm[0x200], 4, 4, 8, i64"),
            "v.s:1: core 0, instruction 0 `vscatter_add spm[0x0], spm[0x100], spm[0x200], 4, 4, 8, i64`: dtype i64 is not "
            "a float dtype (vscatter_add computes in f32)");
  EXPECT_EQ(only_violation("vfill spm[0], 0, 256, 256, f32"),
            "v.s:1: core 0, instruction 0 `vfill spm[0x0], 0, 256, 256, f32`: dst: a 256 x 256 f32 tile (262144 bytes) is "
            "larger than the 65536-byte spm");
}

TEST(Verifier, OperandPlaces) {
  EXPECT_EQ(only_violation("vfill l2[0], 0, 1, 1, f32"),
            "v.s:1: core 0, instruction 0 `vfill l2[0x0], 0, 1, 1, f32`: dst is in l2; matrix and vector operands must be in spm");
  EXPECT_EQ(only_violation("vfill spm@1[0], 0, 1, 1, f32"),
            "v.s:1: core 0, instruction 0 `vfill spm@1[0x0], 0, 1, 1, f32`: dst names spm@1; only DMA reaches another core's "
            "scratchpad");
  EXPECT_EQ(violations("vfill spm@0[0], 0, 1, 1, f32"), std::vector<std::string>{});  // its own scratchpad
  EXPECT_EQ(only_violation("dma.copy spm@2[0], hbm[0], 1, 4, 4, 4"),
            "v.s:1: core 0, instruction 0 `dma.copy spm@2[0x0], hbm[0x0], 1, 4, 4, 4`: dst: spm@2 names a core the chip "
            "does not have (cores 0..1)");
}

TEST(Verifier, AddressRanges) {
  EXPECT_EQ(only_violation("li r1, 0x3fff\nmuli r1, r1, 4\naddi r2, r1, -8\nvfill spm[r2], 0, 1, 4, f32"),
            "v.s:4: core 0, instruction 3 `vfill spm[r2], 0, 1, 4, f32`: dst: a 1 x 4 f32 tile at spm[0xfff4] reaches bytes "
            "[65524, 65540) outside the 65536-byte spm");
  EXPECT_EQ(only_violation("dma.copy l2[-16], hbm[0], 1, 16, 16, 16"),
            "v.s:1: core 0, instruction 0 `dma.copy l2[-0x10], hbm[0x0], 1, 16, 16, 16`: dst: a block at l2[-0x10] "
            "reaches bytes [-16, 0) outside the 1048576-byte l2");
  // Negative strides reach below the address.
  EXPECT_EQ(only_violation("dma.copy spm[0x100], hbm[0x10], 2, 16, 16, -32"),
            "v.s:1: core 0, instruction 0 `dma.copy spm[0x100], hbm[0x10], 2, 16, 16, -32`: src: a block at hbm[0x10] "
            "reaches bytes [-16, 32) outside the 16777216-byte hbm");
  // A register never written may hold anything: nothing is claimed.
  EXPECT_EQ(violations("vfill spm[r5+0x7fffffff], 0, 1, 1, f32"), std::vector<std::string>{});
}

TEST(Verifier, LoopVaryingAddressesAreCheckedToTheLastIteration) {
  // 2^18 iterations of 64 bytes fill 16 MiB of HBM exactly; one more overruns it.
  const char* fits = "li r1, 0\nloop 262144\n dma.copy l2[0], hbm[r1], 1, 64, 64, 64\n addi r1, r1, 64\nendloop";
  EXPECT_EQ(violations(fits), std::vector<std::string>{});
  const char* overruns = "li r1, 0\nloop 262145\n dma.copy l2[0], hbm[r1], 1, 64, 64, 64\n addi r1, r1, 64\nendloop";
  EXPECT_EQ(only_violation(overruns),
            "v.s:3: core 0, instruction 2 `dma.copy l2[0x0], hbm[r1], 1, 64, 64, 64`: src: a block at hbm[0x1000000] reaches "
            "bytes [16777216, 16777280) outside the 16777216-byte hbm");
  // Rows of 16 floats, one row per outer iteration: 2^18 rows of 64 bytes fill the HBM exactly.
  const char* rows = "li r1, 0\nloop {}\n addi r2, r1, 0\n loop 16\n  dma.copy l2[0], hbm[r2], 1, 4, 4, 4\n"
                     "  addi r2, r2, 4\n endloop\n addi r1, r1, 64\nendloop";
  EXPECT_EQ(violations(fmt::format(fmt::runtime(rows), 262144)), std::vector<std::string>{});
  EXPECT_EQ(only_violation(fmt::format(fmt::runtime(rows), 262145)),
            "v.s:5: core 0, instruction 4 `dma.copy l2[0x0], hbm[r2], 1, 4, 4, 4`: src: a block at hbm[0x1000000] reaches "
            "bytes [16777216, 16777220) outside the 16777216-byte hbm");
  // 2^60 iterations in all, checked at their extremes without running them.
  const char* nested = "li r1, 0\nloop 1073741824\n addi r2, r1, 0\n loop 1073741824\n  dma.copy l2[0], hbm[r2], 1, 4, 4, 4\n"
                       " endloop\n addi r1, r1, 16\nendloop";
  EXPECT_EQ(only_violation(nested),
            "v.s:5: core 0, instruction 4 `dma.copy l2[0x0], hbm[r2], 1, 4, 4, 4`: src: a block at hbm[0x3fffffff0] reaches "
            "bytes [17179869168, 17179869172) outside the 16777216-byte hbm");
  // A short loop is followed iteration by iteration: a middle iteration's overrun is found.
  const char* middle = "li r1, 0\nloop 5\n vfill spm[r1], 0, 1, 1, f32\n muli r1, r1, -1\n addi r1, r1, 0x10000\nendloop";
  EXPECT_EQ(only_violation(middle),
            "v.s:3: core 0, instruction 2 `vfill spm[r1], 0, 1, 1, f32`: dst: a 1 x 1 f32 tile at spm[0x10000] reaches bytes "
            "[65536, 65540) outside the 65536-byte spm");
}

TEST(Verifier, AlignmentAndOverlap) {
  EXPECT_EQ(only_violation("li r3, 6\nvfill spm[r3+1], 0, 2, 2, bf16"),
            "v.s:2: core 0, instruction 1 `vfill spm[r3+0x1], 0, 2, 2, bf16`: dst: a 2 x 2 bf16 tile at spm[0x7] is not "
            "aligned to its 2-byte elements");
  EXPECT_EQ(only_violation("mma spm[0], spm[0x80], spm[0x1000], 4, 16, 4, bf16, overwrite"),
            "v.s:1: core 0, instruction 0 `mma spm[0x0], spm[0x80], spm[0x1000], 4, 16, 4, bf16, overwrite`: acc spm[0, 256) "
            "and a spm[128, 160) overlap");
  EXPECT_EQ(only_violation("vtranspose spm[0x10], spm[0], 2, 4, f32"),
            "v.s:1: core 0, instruction 0 `vtranspose spm[0x10], spm[0x0], 2, 4, f32`: dst spm[16, 48) and src spm[0, 32) overlap");
}

TEST(Verifier, Semaphores) {
  EXPECT_EQ(violations("signal dma, 32\nwait dma, 32"),
            (std::vector<std::string>{"v.s:1: core 0, instruction 0 `signal dma, 32`: semaphore 32 is outside 0..31",
                                      "v.s:2: core 0, instruction 1 `wait dma, 32`: semaphore 32 is outside 0..31"}));
  EXPECT_EQ(only_violation("loop 4\n signal dma, 3\nendloop\nwait vector, 3\nwait vector, 3\nwait vector, 3"),
            "v.s:2: core 0, instruction 1 `signal dma, 3`: semaphore 3 is signalled 4 times and waited on 3 times "
            "(loop iterations counted); they must be equal");
  EXPECT_EQ(violations("loop 4\n signal dma, 3\nendloop\nloop 2\n loop 2\n  wait vector, 3\n endloop\nendloop"),
            std::vector<std::string>{});
}

TEST(Verifier, Barriers) {
  EXPECT_EQ(only_violation(".core 0\nloop 2\n barrier\nendloop\n.core 1\nbarrier"),
            "v.s: core 1: core 1 reaches 1 barriers and core 0 reaches 2; every core must reach the same number");
}

TEST(Verifier, VerifyProgramThrowsTheFirstViolation) {
  Program program = assemble("vfill l2[0], 0, 1, 1, f32\nsignal dma, 1", "p.s");
  EXPECT_EQ(testing::error_text([&] { verify_program(program, chip(), "p.s"); }),
            "p.s:1: core 0, instruction 0 `vfill l2[0x0], 0, 1, 1, f32`: dst is in l2; matrix and vector operands must be "
            "in spm (and 1 more)");
  Program decoded = program;
  for (Instruction& inst : decoded.cores[0]) inst.line = 0;
  EXPECT_EQ(testing::error_text([&] { verify_program(decoded, chip(), "p.bin"); }).substr(0, 44),
            "p.bin: core 0, instruction 0 `vfill l2[0x0],");
}

TEST(Verifier, MalformedInstructionsBuiltInCode) {
  Program program;
  Instruction li;
  li.op = Opcode::Li;
  li.operands = {Operand{OperandKind::Reg, 99, {}}, Operand{OperandKind::Imm, 0, {}}};
  program.cores.push_back({li});
  EXPECT_EQ(describe(find_violations(program, chip()).at(0), "code"),
            "code: core 0, instruction 0 `li`: operand rd: register 99 is out of range r0..r15");
}

TEST(Verifier, RandomProgramsOnlyGiveViolations) {
  std::mt19937_64 rng(7);
  size_t found = 0;
  for (int trial = 0; trial < 300; ++trial) found += find_violations(testing::random_program(rng, 3, 30), chip()).size();
  EXPECT_GT(found, 300u);
}

}  // namespace
}  // namespace tessera::isa
