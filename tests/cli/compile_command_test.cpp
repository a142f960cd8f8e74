// `tessera compile`: the IR after every pass and the disassembly with --dump-ir, the predicted
// time and % of peak without it, the autotuner's candidates and winner with --tune (then read
// from the cache under $TESSERA_CACHE_DIR, also by a compile without --tune), and one-line
// errors for bad options.
#include <gtest/gtest.h>

#include <filesystem>

#include "common/run_tessera.h"

namespace {

using tessera::testing::run_tessera;

TEST(CompileCommandTest, DumpsTheIrOfEveryPassAndTheProgram) {
  auto r = run_tessera("compile --kernel matmul --m 512 --n 768 --k 256 --chip t1 --dump-ir");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* text : {"=== kernel\ngemm 512x768x256: a bf16, b bf16 -> out bf16", "=== tiling\ntile ",
                           "=== partition\n", "=== schedule\n", "=== program\n.core 0\n  li r1, 0\n",
                           "mma spm[", "=== verify\nverified for chip t1\n"})
    EXPECT_NE(r.output.find(text), std::string::npos) << text;
}

TEST(CompileCommandTest, PrintsThePredictedTimeAndShareOfPeak) {
  auto r = run_tessera("compile --m 1024 --n 1024 --k 1024 --batch 2 --transpose-b --dtype f32 --chip t1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("gemm 2 x 1024x1024x1024: a f32 batch stride 1048576, b f32 transposed"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("% of peak"), std::string::npos) << r.output;
}

TEST(CompileCommandTest, TunesOnceThenReadsTheCache) {
  std::filesystem::path dir = std::filesystem::path(TESSERA_BINARY_DIR) / "compile_command_test";
  std::filesystem::remove_all(dir);
  std::string tune = "TESSERA_CACHE_DIR=" + dir.string() + " " + TESSERA_BINARY_DIR +
                     "/tessera compile --m 512 --n 512 --k 512 --chip t1 --tune --tune-seconds 1";
  auto shell = [](const std::string& command) {
    std::string out;
    FILE* pipe = popen((command + " 2>&1").c_str(), "r");
    char buffer[4096];
    size_t n;
    while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
    pclose(pipe);
    return out;
  };
  std::string first = shell(tune);
  EXPECT_NE(first.find("tilings tried in at most 1 s (the planner's first)"), std::string::npos) << first;
  EXPECT_NE(first.find("winner: tile "), std::string::npos) << first;
  EXPECT_TRUE(std::filesystem::exists(dir / "tuning.json"));
  std::string second = shell(tune);
  EXPECT_NE(second.find("tuned before"), std::string::npos) << second;
  EXPECT_EQ(first.substr(first.find("winner:")), second.substr(second.find("winner:")));
  // Without --tune, compile lowers with the cached winner: "winner: tile 256x256x128, ..." gives
  // "tile 256x256x128 (".
  std::string compile = tune.substr(0, tune.find(" --tune"));
  std::string winner = first.substr(first.find("winner: ") + 8);
  std::string tile = winner.substr(0, winner.find(','));
  std::string cached = shell(compile);
  EXPECT_NE(cached.find(tile + " ("), std::string::npos) << cached;
  EXPECT_NE(cached.find(" parts, tuned), "), std::string::npos) << cached;
  std::filesystem::remove_all(dir);
  std::string planned = shell(compile);
  EXPECT_NE(planned.find(" parts, planned), "), std::string::npos) << planned;
}

TEST(CompileCommandTest, BadOptionsAreOneLineErrors) {
  auto r = run_tessera("compile --kernel conv --m 8 --n 8 --k 8 --chip t1");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.output, "tessera: error: compile --kernel conv: unknown kernel (valid: matmul)\n");
  r = run_tessera("compile --m 8 --n 8 --k 8 --dtype f16 --chip t1");
  EXPECT_EQ(r.output, "tessera: error: compile --dtype f16: expected bf16 or f32\n");
  r = run_tessera("compile --m 0 --n 8 --k 8 --chip t1");
  EXPECT_EQ(r.output, "tessera: error: gemm 1x0x8x8 (batch x M x N x K): sizes must be positive\n");
}

}  // namespace
