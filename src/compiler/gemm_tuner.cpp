// The GEMM autotuner and its cache file (see gemm_tuner.h).
#include "compiler/gemm_tuner.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/atomic_file.h"
#include "base/error.h"
#include "compiler/chip_key.h"
#include "compiler/gemm_timing.h"

namespace tessera::compiler {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int kVersion = 1;
const char* const kFields[] = {"m", "n", "k", "chunks", "group_rows"};

// The cache file's entries; {} when there is no file. Errors name the file and the place.
// "splits" may be missing (entries written before K could be split): 1.
json read_cache(const std::string& path) {
  if (!std::filesystem::exists(path)) return json::object();
  std::string text = read_file_bytes(path);
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    fail("tuning cache {}: byte {}: not JSON ({})", path, e.byte, e.what());
  }
  if (!doc.is_object() || !doc.contains("version") || doc["version"] != kVersion)
    fail("tuning cache {}: \"version\": expected {}", path, kVersion);
  if (!doc.contains("entries") || !doc["entries"].is_object())
    fail("tuning cache {}: \"entries\": expected an object", path);
  for (const auto& [key, entry] : doc["entries"].items()) {
    for (const char* field : kFields) {
      if (!entry.is_object() || !entry.contains(field) || !entry[field].is_number_integer() || entry[field] <= 0)
        fail("tuning cache {}: entry \"{}\": \"{}\": expected a positive integer", path, key, field);
    }
    if (entry.contains("splits") && (!entry["splits"].is_number_integer() || entry["splits"] <= 0))
      fail("tuning cache {}: entry \"{}\": \"splits\": expected a positive integer", path, key);
    if (!entry.contains("cycles") || !entry["cycles"].is_number())
      fail("tuning cache {}: entry \"{}\": \"cycles\": expected a number", path, key);
  }
  return doc["entries"];
}

GemmTiling tiling_of(const json& entry) {
  return {entry["m"].get<int64_t>(), entry["n"].get<int64_t>(), entry["k"].get<int64_t>(),
          entry["chunks"].get<int64_t>(), entry["group_rows"].get<int64_t>(), entry.value("splits", int64_t{1})};
}

std::string cache_key(const GemmKernel& kernel, const arch::ChipSpec& chip) {
  return to_string(kernel) + " on " + chip_key(chip);
}

GemmTuneResult cached_result(const json& entry) {
  GemmTuneResult r;
  r.best = tiling_of(entry);
  r.best_cycles = entry["cycles"].get<double>();
  r.from_cache = true;
  return r;
}

double cycles_of(const GemmKernel& kernel, const arch::ChipSpec& chip, const GemmTiling& tiling) {
  GemmLowerOptions options;
  options.tiling = tiling;
  options.program = false;
  return time_gemm(*lower_gemm(kernel, chip, options), chip).cycles;
}

// The tilings to try after the planner's: for each candidate tile by estimate, the variants
// of row chunks and tile-row groups.
std::vector<GemmTiling> variants(const GemmKernel& kernel, const arch::ChipSpec& chip) {
  std::vector<GemmTiling> out;
  for (const auto& [tile, estimate] : gemm_tiling_candidates(kernel, chip)) {
    for (int64_t chunks : {1, 2, 4, 8}) {
      for (int64_t group : {8, 4, 16}) {
        if (chunks > tile.m) continue;
        GemmTiling t = tile;
        t.chunks = chunks, t.group_rows = group;
        out.push_back(t);
      }
    }
  }
  return out;
}

}  // namespace

std::string default_tuning_cache_path() {
  if (const char* dir = std::getenv("TESSERA_CACHE_DIR"); dir && *dir) return std::string(dir) + "/tuning.json";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.cache/tessera/tuning.json";
}

std::optional<GemmTuneResult> cached_tuning(const GemmKernel& kernel, const arch::ChipSpec& chip,
                                            const std::string& cache_path) {
  json entries = read_cache(cache_path.empty() ? default_tuning_cache_path() : cache_path);
  std::string key = cache_key(kernel, chip);
  if (!entries.contains(key)) return std::nullopt;
  return cached_result(entries[key]);
}

GemmTuneResult tune_gemm(const GemmKernel& kernel, const arch::ChipSpec& chip, const GemmTuneOptions& options) {
  check_kernel(kernel, chip);
  std::string path = options.cache_path.empty() ? default_tuning_cache_path() : options.cache_path;
  std::string key = cache_key(kernel, chip);
  json entries = read_cache(path);
  if (entries.contains(key)) return cached_result(entries[key]);
  GemmTuneResult r;

  auto start = Clock::now();
  auto try_tiling = [&](const GemmTiling& t) {
    for (const auto& c : r.tried)
      if (c.tiling == t) return;
    double cycles = cycles_of(kernel, chip, t);
    r.tried.push_back({t, cycles});
    if (r.tried.size() == 1 || cycles < r.best_cycles) r.best = t, r.best_cycles = cycles;
  };
  try_tiling(plan_gemm_tiling(kernel, chip));
  for (const GemmTiling& t : variants(kernel, chip)) {
    if (std::chrono::duration<double>(Clock::now() - start).count() >= options.seconds) break;
    try_tiling(t);
  }

  entries[key] = {{"m", r.best.m}, {"n", r.best.n}, {"k", r.best.k}, {"chunks", r.best.chunks},
                  {"group_rows", r.best.group_rows}, {"splits", r.best.splits}, {"cycles", r.best_cycles}};
  json doc = {{"version", kVersion}, {"entries", entries}};
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code error;
    std::filesystem::create_directories(parent, error);
    if (error) fail("tuning cache {}: cannot create the folder {}: {}", path, parent.string(), error.message());
  }
  write_file_atomic(path, doc.dump(1) + "\n");
  return r;
}

}  // namespace tessera::compiler
