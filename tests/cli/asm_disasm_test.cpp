// `tessera asm` and `tessera disasm`: a program survives asm -> disasm -> asm byte for byte;
// a program the chip refuses, malformed text and a corrupt binary give one-line errors and
// leave no output file.
#include <gtest/gtest.h>

#include "common/run_tessera.h"

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sys/wait.h>

#include "base/atomic_file.h"

namespace {

namespace fs = std::filesystem;

using tessera::testing::CommandResult;
using tessera::testing::run_tessera;

fs::path fresh_dir(const std::string& name) {
  fs::path dir = fs::path(TESSERA_BINARY_DIR) / "test-tmp" / ("asm-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// The words joined by spaces (paths as they are).
template <typename... Words>
std::string words(const Words&... words) {
  std::string line;
  auto add = [&line](const fs::path& word) {
    if (!line.empty()) line += ' ';
    line += word.string();
  };
  (add(fs::path(words)), ...);
  return line;
}

void write(const fs::path& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

const char* kProgram = R"(.equ TILE, 0x2000
.core 1
li r1, 0
loop 4
  dma.copy spm[0], hbm[r1], 64, 128, 128, 128   ; one bf16 tile
  signal dma, 0
  wait matrix, 0
  mma spm[0x8000], spm[0], spm[TILE], 64, 64, 64, bf16, accumulate
  addi r1, r1, 0x2000
endloop
barrier
.core 0
barrier
)";

TEST(AsmDisasm, RoundTripThroughFiles) {
  fs::path dir = fresh_dir("round-trip");
  write(dir / "p.s", kProgram);
  CommandResult assembled = run_tessera(words("asm", dir / "p.s", "-o", dir / "p.bin", "--chip", "t1"));
  ASSERT_EQ(assembled.exit_code, 0) << assembled.output;
  EXPECT_EQ(assembled.output, (dir / "p.bin").string() + ": 2 cores, 10 instructions, verified for t1\n");
  CommandResult text = run_tessera(words("disasm", dir / "p.bin"));
  ASSERT_EQ(text.exit_code, 0) << text.output;
  EXPECT_EQ(text.output,
            ".core 0\n  barrier\n\n.core 1\n  li r1, 0\n  loop 4\n    dma.copy spm[0x0], hbm[r1], 64, 128, 128, 128\n"
            "    signal dma, 0\n    wait matrix, 0\n"
            "    mma spm[0x8000], spm[0x0], spm[0x2000], 64, 64, 64, bf16, accumulate\n    addi r1, r1, 8192\n"
            "  endloop\n  barrier\n");
  write(dir / "again.s", text.output);
  ASSERT_EQ(run_tessera(words("asm", dir / "again.s", "-o", dir / "again.bin")).exit_code, 0);
  EXPECT_EQ(tessera::read_file_bytes((dir / "again.bin").string()), tessera::read_file_bytes((dir / "p.bin").string()));
}

// One line "tessera: error: <expected>", exit code 1.
void expect_error(const CommandResult& r, const std::string& expected) {
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(r.output, "tessera: error: " + expected + "\n");
}

TEST(AsmDisasm, ErrorsAreOneLineAndLeaveNoFile) {
  fs::path dir = fresh_dir("errors");
  write(dir / "p.s", kProgram);
  expect_error(run_tessera(words("asm", dir / "p.s", "-o", dir / "p.bin", "--chip", "t1", "--set", "scratchpad.size=32KiB")),
               (dir / "p.s").string() + ":8: core 1, instruction 5 `mma spm[0x8000], spm[0x0], spm[0x2000], 64, 64, 64, "
               "bf16, accumulate`: acc: a 64 x 64 f32 tile at spm[0x8000] reaches bytes [32768, 49152) outside the "
               "32768-byte spm");
  EXPECT_FALSE(fs::exists(dir / "p.bin"));
  write(dir / "bad.s", "li r1, 0\nmov r2, r1\n");
  expect_error(run_tessera(words("asm", dir / "bad.s", "-o", dir / "bad.bin")),
               (dir / "bad.s").string() + ":2:1: expected a mnemonic (did you mean 'mma'?), found 'mov'");
  EXPECT_FALSE(fs::exists(dir / "bad.bin"));
  expect_error(run_tessera(words("asm", dir / "p.s")), "asm: name the binary to write with -o FILE.bin");
  ASSERT_EQ(run_tessera(words("asm", dir / "p.s", "-o", dir / "p.bin")).exit_code, 0);
  std::string bytes = tessera::read_file_bytes((dir / "p.bin").string());
  write(dir / "cut.bin", bytes.substr(0, 30));
  expect_error(run_tessera(words("disasm", dir / "cut.bin")),
               (dir / "cut.bin").string() + ": byte 23: truncated: expected operand imm (integer) (8 bytes), found 7 bytes "
               "before the end");
}

TEST(AsmDisasm, DocOptionPrintsTheCommittedReference) {
  CommandResult doc = run_tessera("asm --doc");
  EXPECT_EQ(doc.exit_code, 0);
  EXPECT_EQ(doc.output, tessera::read_file_bytes(TESSERA_SOURCE_DIR "/docs/isa.md"));
}

}  // namespace
