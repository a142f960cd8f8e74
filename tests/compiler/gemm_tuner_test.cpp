// The GEMM autotuner: its tiling is no slower than the planner's, a second tune (and
// cached_tuning) reads the cache file without searching, another chip misses it, and a
// corrupted file is an error that names it and the place.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "arch/chip_loader.h"
#include "base/atomic_file.h"
#include "common/error_text.h"
#include "compiler/gemm_timing.h"
#include "compiler/gemm_tuner.h"

namespace tessera::compiler {
namespace {

using tessera::testing::error_text;

std::string fresh_cache(const std::string& name) {
  std::filesystem::path dir = std::filesystem::path(TESSERA_BINARY_DIR) / "tuner_test" / name;
  std::filesystem::remove_all(dir);
  return (dir / "tuning.json").string();
}

GemmKernel square(int64_t size) {
  GemmKernel k;
  k.m = k.n = k.k = size;
  return k;
}

double cycles_with(const GemmKernel& kernel, const arch::ChipSpec& chip, const GemmTiling& tiling) {
  GemmLowerOptions options;
  options.tiling = tiling;
  options.program = false;
  return time_gemm(*lower_gemm(kernel, chip, options), chip).cycles;
}

TEST(GemmTunerTest, TunedTilingIsNoSlowerThanThePlannersAndIsCached) {
  arch::ChipSpec t1 = arch::load_chip("t1");
  GemmKernel kernel = square(1024);
  GemmTuneOptions options;
  options.seconds = 3;
  options.cache_path = fresh_cache("tuned");
  EXPECT_FALSE(cached_tuning(kernel, t1, options.cache_path).has_value());
  GemmTuneResult tuned = tune_gemm(kernel, t1, options);
  EXPECT_FALSE(tuned.from_cache);
  ASSERT_GE(tuned.tried.size(), 2u);
  EXPECT_EQ(tuned.tried[0].tiling, plan_gemm_tiling(kernel, t1));
  double planner = cycles_with(kernel, t1, plan_gemm_tiling(kernel, t1));
  EXPECT_LE(cycles_with(kernel, t1, tuned.best), planner);
  EXPECT_DOUBLE_EQ(tuned.best_cycles, cycles_with(kernel, t1, tuned.best));

  GemmTuneResult again = tune_gemm(kernel, t1, options);
  EXPECT_TRUE(again.from_cache);
  EXPECT_TRUE(again.tried.empty());
  EXPECT_EQ(again.best, tuned.best);
  EXPECT_DOUBLE_EQ(again.best_cycles, tuned.best_cycles);
  std::optional<GemmTuneResult> cached = cached_tuning(kernel, t1, options.cache_path);
  ASSERT_TRUE(cached.has_value());
  EXPECT_EQ(cached->best, tuned.best);
  EXPECT_TRUE(cached->from_cache);

  options.seconds = 0;  // the planner's tiling only
  arch::ChipSpec slower = arch::load_chip("t1", std::vector<std::string>{"hbm.bandwidth=1TB/s"});
  GemmTuneResult other = tune_gemm(kernel, slower, options);
  EXPECT_FALSE(other.from_cache);
  EXPECT_EQ(other.tried.size(), 1u);
  EXPECT_TRUE(tune_gemm(kernel, t1, options).from_cache);  // both entries kept
}

TEST(GemmTunerTest, ACorruptedCacheFileIsAnErrorNamingItAndThePlace) {
  arch::ChipSpec t1 = arch::load_chip("t1");
  GemmTuneOptions options;
  options.seconds = 0;
  options.cache_path = fresh_cache("corrupted");
  std::filesystem::create_directories(std::filesystem::path(options.cache_path).parent_path());
  write_file_atomic(options.cache_path, "{\"version\": 1, \"entries\": {");
  EXPECT_EQ(error_text([&] { tune_gemm(square(256), t1, options); }).rfind("tuning cache " + options.cache_path +
                                                                            ": byte 28: not JSON", 0),
            0u);
  write_file_atomic(options.cache_path, R"({"version": 1, "entries": {"x": {"m": 64, "n": -1}}})");
  EXPECT_EQ(error_text([&] { tune_gemm(square(256), t1, options); }),
            "tuning cache " + options.cache_path + ": entry \"x\": \"n\": expected a positive integer");
  write_file_atomic(options.cache_path, R"({"entries": {}})");
  EXPECT_EQ(error_text([&] { tune_gemm(square(256), t1, options); }),
            "tuning cache " + options.cache_path + ": \"version\": expected 1");
}

TEST(GemmTunerTest, TheDefaultCacheFileFollowsTesseraCacheDir) {
  const char* old = std::getenv("TESSERA_CACHE_DIR");
  std::string saved = old ? old : "";
  setenv("TESSERA_CACHE_DIR", "/tmp/somewhere", 1);
  EXPECT_EQ(default_tuning_cache_path(), "/tmp/somewhere/tuning.json");
  if (old) setenv("TESSERA_CACHE_DIR", saved.c_str(), 1); else unsetenv("TESSERA_CACHE_DIR");
}

}  // namespace
}  // namespace tessera::compiler
