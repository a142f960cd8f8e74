// `tessera compile --kernel matmul --m M --n N --k K [--batch B] [--transpose-a] [--transpose-b]
// [--dtype bf16|f32] --chip NAME`: lowers the kernel with the compiler (compiler/gemm_lowering.h)
// and prints its predicted time and share of the chip's peak (a timing-only run), with the tiling
// of the tuning cache when it has an entry for the kernel and chip, else the planner's; --dump-ir
// prints each pass's result and the program's disassembly instead; --tune runs the autotuner
// (compiler/gemm_tuner.h) and prints the tilings it tried and the winner.
#include <cstdio>
#include <memory>
#include <optional>

#include "arch/chip_loader.h"
#include "base/error.h"
#include "cli/command.h"
#include "compiler/gemm_timing.h"
#include "compiler/gemm_tuner.h"

namespace tessera::cli {

namespace {

struct Options {
  std::string kernel = "matmul", chip, dtype = "bf16";
  std::vector<std::string> overrides;
  int64_t batch = 1, m = 0, n = 0, k = 0;
  bool transpose_a = false, transpose_b = false, dump_ir = false, tune = false;
  double tune_seconds = 10;
};

std::string tiling_text(const compiler::GemmTiling& t) {
  return fmt::format("tile {}x{}x{}, {} row chunk{}, groups of {} tile rows, k in {} part{}", t.m, t.n, t.k,
                     t.chunks, t.chunks == 1 ? "" : "s", t.group_rows, t.splits, t.splits == 1 ? "" : "s");
}

void tune(const compiler::GemmKernel& kernel, const arch::ChipSpec& chip, double seconds) {
  compiler::GemmTuneOptions options;
  options.seconds = seconds;
  compiler::GemmTuneResult r = compiler::tune_gemm(kernel, chip, options);
  auto line = [&](const compiler::GemmTiling& t, double cycles) {
    return fmt::format("{:<52} {:>12.0f} cycles {:>9.3f} us", tiling_text(t), cycles, cycles / chip.clock_hz * 1e6);
  };
  if (r.from_cache) {
    std::printf("%s on %s: tuned before (%s)\n", compiler::to_string(kernel).c_str(), chip.name.c_str(),
                compiler::default_tuning_cache_path().c_str());
  } else {
    std::printf("%s on %s: %zu tilings tried in at most %g s (the planner's first)\n",
                compiler::to_string(kernel).c_str(), chip.name.c_str(), r.tried.size(), seconds);
    for (const auto& c : r.tried) std::printf("  %s\n", line(c.tiling, c.cycles).c_str());
  }
  std::printf("winner: %s\n", line(r.best, r.best_cycles).c_str());
}

compiler::GemmKernel gemm_kernel(const Options& o) {
  if (o.kernel != "matmul") fail("compile --kernel {}: unknown kernel (valid: matmul)", o.kernel);
  DType dtype = parse_dtype(o.dtype);
  if (dtype != DType::BF16 && dtype != DType::F32) fail("compile --dtype {}: expected bf16 or f32", o.dtype);
  compiler::GemmKernel k;
  k.batch = o.batch, k.m = o.m, k.n = o.n, k.k = o.k;
  k.transpose_a = o.transpose_a, k.transpose_b = o.transpose_b;
  k.a_dtype = k.b_dtype = k.out_dtype = dtype;
  k.batch_stride_a = o.m * o.k, k.batch_stride_b = o.k * o.n, k.batch_stride_out = o.m * o.n;
  return k;
}

void compile(const Options& o) {
  arch::ChipSpec chip = arch::load_chip(o.chip, o.overrides);
  compiler::GemmKernel kernel = gemm_kernel(o);
  if (o.tune) {
    if (o.dump_ir) fail("compile: give --tune or --dump-ir, not both");
    return tune(kernel, chip, o.tune_seconds);
  }
  std::string ir;
  compiler::GemmLowerOptions options;
  options.program = o.dump_ir;
  if (o.dump_ir) options.ir = &ir;
  std::optional<compiler::GemmTuneResult> tuned = compiler::cached_tuning(kernel, chip);
  if (tuned) options.tiling = tuned->best;
  auto lowering = compiler::lower_gemm(kernel, chip, options);
  if (o.dump_ir) {
    std::fputs(ir.c_str(), stdout);
    return;
  }
  compiler::GemmTime t = compiler::time_gemm(*lowering, chip);
  const compiler::GemmTiling& tiling = lowering->tiling;
  std::printf("%s on %s: tile %lldx%lldx%lld (%lld row chunks, k in %lld parts, %s), %.0f cycles, %.3f us, "
              "%.1f %% of peak\n",
              compiler::to_string(kernel).c_str(), chip.name.c_str(), static_cast<long long>(tiling.m),
              static_cast<long long>(tiling.n), static_cast<long long>(tiling.k),
              static_cast<long long>(tiling.chunks), static_cast<long long>(tiling.splits), tuned ? "tuned" : "planned",
              t.cycles, t.seconds * 1e6, t.percent_of_peak);
}

const CommandRegistrar kCompile("compile", "lower a kernel to a tile program and predict its time", [](CLI::App& app) {
  auto o = std::make_shared<Options>();
  app.add_option("--kernel", o->kernel, "kernel to compile (matmul)");
  app.add_option("--chip", o->chip, "a preset name or a chip YAML file")->required();
  app.add_option("--set", o->overrides, "override a chip parameter, e.g. scratchpad.size=1MiB")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--m", o->m, "rows of the output")->required();
  app.add_option("--n", o->n, "columns of the output")->required();
  app.add_option("--k", o->k, "the reduced dimension")->required();
  app.add_option("--batch", o->batch, "independent products in one launch");
  app.add_flag("--transpose-a", o->transpose_a, "A is stored (K, M)");
  app.add_flag("--transpose-b", o->transpose_b, "B is stored (N, K)");
  app.add_option("--dtype", o->dtype, "dtype of the inputs and the output: bf16 or f32");
  app.add_flag("--dump-ir", o->dump_ir, "print each pass's result and the program");
  app.add_flag("--tune", o->tune, "search tilings with the timing model; cache the winner in $TESSERA_CACHE_DIR");
  app.add_option("--tune-seconds", o->tune_seconds, "time bound of the search")->check(CLI::NonNegativeNumber);
  return [o] { compile(*o); };
});

}  // namespace

}  // namespace tessera::cli
