// Chrome traces of a compiler GEMM's timing-only run: valid JSON (read back with nlohmann), one
// named track per engine per core, complete events with mnemonics, operands and microsecond
// times, written atomically.
#include "sim/chrome_trace.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "base/atomic_file.h"
#include "compiler/gemm_timing.h"
#include "sim/timing_test_util.h"

namespace tessera::sim {
namespace {

using namespace testing;

TEST(ChromeTrace, OneTrackPerEnginePerCoreAndAnEventPerInstruction) {
  arch::ChipSpec t1 = small_t1(3);  // 1.6 GHz
  compiler::GemmKernel kernel;
  kernel.m = 128, kernel.n = 192, kernel.k = 256;
  compiler::GemmLowerOptions options;
  options.tiling = compiler::GemmTiling{64, 64, 128, 1};
  options.program = false;
  ChromeTrace trace(t1);
  SimObserver* observers[] = {&trace};
  compiler::time_gemm(*compiler::lower_gemm(kernel, t1, options), t1, observers);
  trace.on_blocked(2, isa::Engine::Scalar, 16, 32, true);

  std::filesystem::path dir = std::filesystem::path(TESSERA_BINARY_DIR) / "test_tmp" / "chrome_trace";
  std::filesystem::create_directories(dir);
  std::string path = (dir / "gemm.json").string();
  trace.write(path);
  nlohmann::json json = nlohmann::json::parse(read_file_bytes(path));

  std::set<std::pair<int, int>> named_tracks, used_tracks;
  int mma_events = 0, wait_events = 0, barrier_events = 0;
  for (const nlohmann::json& e : json.at("traceEvents")) {
    std::pair<int, int> track{e.at("pid").get<int>(), e.value("tid", -1)};
    if (e.at("ph") == "M") {
      if (e.at("name") == "thread_name") named_tracks.insert(track);
      continue;
    }
    ASSERT_EQ(e.at("ph"), "X");
    used_tracks.insert(track);
    EXPECT_GE(e.at("dur").get<double>(), 0);
    std::string name = e.at("name");
    if (name == "mma") {
      ++mma_events;
      EXPECT_EQ(e.at("tid"), static_cast<int>(isa::Engine::Matrix));
      EXPECT_EQ(e.at("args").at("m"), "64");
      EXPECT_EQ(e.at("args").at("dtype"), "bf16");
      EXPECT_EQ(e.at("args").at("acc").get<std::string>().substr(0, 4), "spm[");
    }
    if (name == "wait") ++wait_events;
    if (name == "barrier") {
      ++barrier_events;
      EXPECT_DOUBLE_EQ(e.at("ts").get<double>(), 16 / 1.6e9 * 1e6);
      EXPECT_DOUBLE_EQ(e.at("dur").get<double>(), 16 / 1.6e9 * 1e6);
    }
  }
  EXPECT_EQ(named_tracks.size(), 3u * 4u);  // 3 cores x (scalar, dma, matrix, vector)
  for (const auto& track : used_tracks) EXPECT_TRUE(named_tracks.count(track)) << track.first << "/" << track.second;
  EXPECT_EQ(mma_events, 2 * 3 * 2);  // 6 tiles of 64x64, 2 k-steps each
  EXPECT_GT(wait_events, 0);
  EXPECT_EQ(barrier_events, 1);
  int files = 0;  // the atomic write left no temporary behind
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir)) ++files;
  EXPECT_EQ(files, 1);
}

}  // namespace
}  // namespace tessera::sim
