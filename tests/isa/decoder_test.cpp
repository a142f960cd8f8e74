// The binary decoder on corrupted input: every defect is an Error naming the file and the byte
// offset; truncation at any length and random byte flips never crash or yield a partial program.
#include <gtest/gtest.h>

#include "isa/assembler.h"
#include "isa/encoding.h"
#include "isa_test_util.h"

namespace tessera::isa {
namespace {

std::string decode_error(const std::string& bytes) {
  return testing::error_text([&] { decode_program(bytes, "p.bin"); });
}

// The bytes of a one-core program holding `line`.
std::string encoded(const std::string& line) { return encode_program(assemble(line, "p.s")); }

TEST(Decoder, HeaderDefects) {
  std::string bytes = encoded("li r1, 5");
  EXPECT_EQ(decode_error(""), "p.bin: byte 0: truncated: expected the magic number (4 bytes), found 0 bytes before the end");
  EXPECT_EQ(decode_error("TSSA"), "p.bin: byte 4: truncated: expected the format version (4 bytes), found 0 bytes before the end");
  std::string bad_magic = bytes;
  bad_magic[0] = 'X';
  EXPECT_EQ(decode_error(bad_magic), "p.bin: byte 0: bad magic number 0x41535358: not a Tessera program (expected 0x41535354)");
  std::string bad_version = bytes;
  bad_version[4] = 2;
  EXPECT_EQ(decode_error(bad_version), "p.bin: byte 4: unsupported format version 2 (this build reads version 1)");
  std::string many_cores = bytes;
  many_cores[10] = 1;  // core count 65537
  many_cores[8] = 1;
  EXPECT_EQ(decode_error(many_cores), "p.bin: byte 8: core count 65537 exceeds 32768");
}

TEST(Decoder, BodyDefects) {
  std::string bytes = encoded("li r1, 5");  // header 12, count 4, opcode at 16, reg at 17, imm at 18
  ASSERT_EQ(bytes.size(), 26u);
  std::string bad_opcode = bytes;
  bad_opcode[16] = 21;
  EXPECT_EQ(decode_error(bad_opcode), "p.bin: byte 16: unknown opcode 21 (valid opcodes are 0..20)");
  std::string bad_register = bytes;
  bad_register[17] = 16;
  EXPECT_EQ(decode_error(bad_register), "p.bin: byte 17: li operand rd: register 16 is out of range r0..r15");
  EXPECT_EQ(decode_error(bytes + "x"), "p.bin: byte 26: 1 trailing bytes after the last core");
  std::string huge_count = bytes;
  huge_count[15] = 0x7f;
  EXPECT_EQ(decode_error(huge_count), "p.bin: byte 12: truncated: core 0 claims 2130706433 instructions but only 10 bytes follow");
  EXPECT_EQ(decode_error(bytes.substr(0, 20)),
            "p.bin: byte 18: truncated: expected operand imm (integer) (8 bytes), found 2 bytes before the end");
}

TEST(Decoder, OperandRanges) {
  // vfill: opcode, dst = space(1) core(2) reg(1) offset(8), value(4), rows(8), cols(8), dtype(1)
  std::string bytes = encoded("vfill hbm[0], 1.0, 1, 1, f32");
  size_t dst = 17, dtype = 17 + 12 + 4 + 16;
  ASSERT_EQ(bytes.size(), dtype + 1);
  std::string bad_space = bytes;
  bad_space[dst] = 3;
  EXPECT_EQ(decode_error(bad_space), "p.bin: byte 17: vfill operand dst: memory space 3 is not hbm (0), l2 (1) or spm (2)");
  std::string core_on_hbm = bytes;
  core_on_hbm[dst + 1] = 2;
  core_on_hbm[dst + 2] = 0;
  EXPECT_EQ(decode_error(core_on_hbm), "p.bin: byte 17: vfill operand dst: hbm@2: only spm names another core");
  std::string bad_base = bytes;
  bad_base[dst + 3] = 16;
  EXPECT_EQ(decode_error(bad_base), "p.bin: byte 17: vfill operand dst: base register 16 is out of range r0..r15");
  std::string bad_dtype = bytes;
  bad_dtype[dtype] = 7;
  EXPECT_EQ(decode_error(bad_dtype),
            "p.bin: byte 49: vfill operand dtype: dtype value 7 is not one of f32, bf16, f16, f8e4m3, f8e5m2, i32, i64");
  std::string engine = encoded("signal dma, 3");
  engine[17] = 0;  // scalar is not a queue
  EXPECT_EQ(decode_error(engine), "p.bin: byte 17: signal operand engine: engine value 0 is not one of dma, matrix, vector");
}

TEST(Decoder, EveryTruncationIsAnError) {
  std::mt19937_64 rng(3);
  std::string bytes = encode_program(testing::random_program(rng, 3, 20));
  for (size_t length = 0; length < bytes.size(); ++length) {
    std::string message = decode_error(bytes.substr(0, length));
    EXPECT_EQ(message.rfind("p.bin: byte ", 0), 0u) << message;
  }
}

TEST(Decoder, FlippedBytesGiveAnErrorOrAProgramThatEncodesBack) {
  std::mt19937_64 rng(4);
  int errors = 0, decoded = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::string bytes = encode_program(testing::random_program(rng, 1 + static_cast<int>(rng() % 3), 10));
    int flips = 1 + static_cast<int>(rng() % 3);
    for (int f = 0; f < flips; ++f) bytes[rng() % bytes.size()] ^= static_cast<char>(1 + rng() % 255);
    try {
      Program program = decode_program(bytes, "p.bin");
      EXPECT_EQ(encode_program(program), bytes);  // the encoding is canonical
      ++decoded;
    } catch (const Error& error) {
      EXPECT_EQ(std::string(error.what()).rfind("p.bin: byte ", 0), 0u) << error.what();
      ++errors;
    }
  }
  EXPECT_GT(errors, 100);
  EXPECT_GT(decoded, 100);
}

}  // namespace
}  // namespace tessera::isa
