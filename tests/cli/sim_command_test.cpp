// `tessera sim`: a binary program (written here byte by byte, as isa/encoding.h lays it out)
// runs on data loaded from a file, its result is dumped to a file, with and without timing and
// with a trace; bad options and runtime errors are one-line errors.
#include <gtest/gtest.h>

#include "common/run_tessera.h"

#include <array>
#include <bit>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/wait.h>
#include <vector>

namespace {

namespace fs = std::filesystem;

using tessera::testing::CommandResult;
using tessera::testing::run_tessera;

// Little-endian bytes of a program.
struct Bytes {
  std::string data;
  template <typename T>
  Bytes& put(T value) {
    char raw[sizeof(T)];
    std::memcpy(raw, &value, sizeof(T));
    data.append(raw, sizeof(T));
    return *this;
  }
  Bytes& addr(uint8_t space, int64_t offset) { return put<uint8_t>(space).put<int16_t>(-1).put<int8_t>(-1).put(offset); }
};

constexpr uint8_t kHbm = 0, kSpm = 2;
constexpr uint8_t kDmaCopy = 6, kVUnary = 9, kWait = 18;  // opcodes, in the table's order

// One core: load 4 f32 from hbm[0x100], negate them, store them at hbm[0x200].
std::string negate_program() {
  Bytes b;
  b.put<uint32_t>(0x41535354).put<uint32_t>(1).put<uint32_t>(1).put<uint32_t>(3);
  b.put(kDmaCopy).addr(kSpm, 0).addr(kHbm, 0x100).put<int64_t>(1).put<int64_t>(16).put<int64_t>(16).put<int64_t>(16);
  b.put(kVUnary).put<uint8_t>(4 /* neg */).addr(kSpm, 0x40).addr(kSpm, 0).put<int64_t>(1).put<int64_t>(4).put<uint8_t>(0 /* f32 */);
  b.put(kDmaCopy).addr(kHbm, 0x200).addr(kSpm, 0x40).put<int64_t>(1).put<int64_t>(16).put<int64_t>(16).put<int64_t>(16);
  return b.data;
}

std::string temp_dir(const std::string& name) {
  std::string dir = std::string(TESSERA_BINARY_DIR) + "/test-tmp/cli-sim-" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void write_file(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }
std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void expect_one_line_error(const CommandResult& r, const std::string& expected) {
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(r.output.rfind("tessera: error: ", 0), 0u) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  EXPECT_NE(r.output.find(expected), std::string::npos) << "expected '" << expected << "' in: " << r.output;
}

TEST(SimCommand, RunsAProgramOnLoadedDataAndDumpsTheResult) {
  std::string dir = temp_dir("run");
  write_file(dir + "/p.bin", negate_program());
  std::vector<float> input = {1.5f, -2.0f, 0.0f, 3.25f};
  write_file(dir + "/in.bin", std::string(reinterpret_cast<const char*>(input.data()), 16));
  for (bool timing : {true, false}) {
    std::string args = "sim " + dir + "/p.bin --chip t1 --load hbm:0x100:" + dir + "/in.bin --dump hbm:0x200:16:" +
                       dir + "/out.bin" + (timing ? " --trace " + dir + "/trace.json" : " --no-timing");
    CommandResult r = run_tessera(args);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("3 instructions run (scalar 0, dma 2, matrix 0, vector 1)"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("cycles") != std::string::npos, timing) << r.output;
    std::string out = read_file(dir + "/out.bin");
    ASSERT_EQ(out.size(), 16u);
    std::vector<float> got(4);
    std::memcpy(got.data(), out.data(), 16);
    EXPECT_EQ(got, (std::vector<float>{-1.5f, 2.0f, -0.0f, -3.25f}));
    EXPECT_EQ(std::bit_cast<uint32_t>(got[2]), 0x80000000u);
  }
  EXPECT_NE(read_file(dir + "/trace.json").find("traceEvents"), std::string::npos);
}

TEST(SimCommand, BadOptionsAndRuntimeErrorsAreOneLine) {
  std::string dir = temp_dir("errors");
  write_file(dir + "/p.bin", negate_program());
  write_file(dir + "/in.bin", "0123456789abcdef");
  std::string program = "sim " + dir + "/p.bin --chip t1 ";
  expect_one_line_error(run_tessera(program + "--load hbm2:0:" + dir + "/in.bin"),
                        "--load hbm2:0:" + dir + "/in.bin: memory 'hbm2' is not hbm, l2, spm or spm@N");
  expect_one_line_error(run_tessera(program + "--load spm@32:0:" + dir + "/in.bin"),
                        "spm@32 is not a core of the chip (0..31)");
  expect_one_line_error(run_tessera(program + "--dump spm@1:0x17fff8:16:" + dir + "/o.bin"),
                        "--dump spm@1:0x17fff8:16:" + dir +
                            "/o.bin: bytes [0x17fff8, 0x180008) are outside the 1572864-byte spm@1");
  expect_one_line_error(run_tessera(program + "--dump hbm:0x10"), "--dump hbm:0x10: expected SPACE:ADDR:BYTES:FILE");
  expect_one_line_error(run_tessera(program + "--no-timing --trace " + dir + "/t.json"), "a trace needs timing");
  EXPECT_FALSE(fs::exists(dir + "/o.bin"));

  Bytes deadlock;
  deadlock.put<uint32_t>(0x41535354).put<uint32_t>(1).put<uint32_t>(1).put<uint32_t>(1);
  deadlock.put(kWait).put<uint8_t>(2 /* matrix */).put<int64_t>(7);
  write_file(dir + "/d.bin", deadlock.data);
  expect_one_line_error(run_tessera("sim " + dir + "/d.bin --chip t1"),
                        "deadlock: core 0 matrix, instruction 0 `wait matrix, 7`: semaphore 7 is 0 and nothing left "
                        "can signal it");
  write_file(dir + "/short.bin", negate_program().substr(0, 20));
  expect_one_line_error(run_tessera("sim " + dir + "/short.bin --chip t1"), dir + "/short.bin: byte");
}

}  // namespace
