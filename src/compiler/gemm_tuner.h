// The GEMM autotuner: tries tilings (tile sizes and k-splits, row chunks of the last k-step, the
// grouping of the partition's tile order) with timing-only runs of the lowered kernel (gemm_timing.h),
// the planner's tiling first and then the planner's other candidates by their estimate, until
// its time bound; keeps the fastest. Choices are cached on disk, keyed by the kernel and the
// chip (chip_key.h), in a JSON file written atomically:
//   {"version": 1, "entries": {"<kernel> on <chip key>": {"m": 256, "n": 256, "k": 256,
//    "chunks": 4, "group_rows": 8, "splits": 1, "cycles": 123.0}, ...}}  ("splits" optional: 1)
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "compiler/gemm_tiling.h"

namespace tessera::compiler {

struct GemmTuneOptions {
  double seconds = 10;     // search time bound (the planner's tiling is always timed)
  std::string cache_path;  // "" : default_tuning_cache_path()
};

struct GemmTuneResult {
  struct Candidate {
    GemmTiling tiling;
    double cycles = 0;
  };
  GemmTiling best;
  double best_cycles = 0;
  std::vector<Candidate> tried;  // in the order tried; empty when read from the cache
  bool from_cache = false;
};

// $TESSERA_CACHE_DIR/tuning.json, else ~/.cache/tessera/tuning.json.
std::string default_tuning_cache_path();

GemmTuneResult tune_gemm(const GemmKernel& kernel, const arch::ChipSpec& chip, const GemmTuneOptions& options);

// The cache file's entry for `kernel` on `chip` (from_cache set), or nothing; `cache_path` ""
// reads default_tuning_cache_path(). An Error names a cache file that cannot be read.
std::optional<GemmTuneResult> cached_tuning(const GemmKernel& kernel, const arch::ChipSpec& chip,
                                            const std::string& cache_path = "");

}  // namespace tessera::compiler
