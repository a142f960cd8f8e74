// The GEMM lowering's pass list (see gemm_lowering.h).
#include "compiler/gemm_lowering.h"

#include <fmt/format.h>

#include "base/error.h"
#include "isa/disassembler.h"
#include "isa/verifier.h"

namespace tessera::compiler {

namespace {

void dump(std::string* ir, const char* pass, const std::string& text) {
  if (ir) *ir += fmt::format("=== {}\n{}", pass, text);
}

}  // namespace

std::unique_ptr<GemmLowering> lower_gemm(const GemmKernel& kernel, const arch::ChipSpec& chip,
                                         const GemmLowerOptions& options) {
  auto l = std::make_unique<GemmLowering>();
  check_kernel(kernel, chip);
  l->kernel = kernel;
  dump(options.ir, "kernel", to_string(kernel) + "\n");

  l->tiling = options.tiling ? *options.tiling : plan_gemm_tiling(kernel, chip);
  const GemmTiling& t = l->tiling;
  if (t.m <= 0 || t.n <= 0 || t.k <= 0 || t.chunks <= 0 || t.chunks > 64 || t.group_rows <= 0)
    fail("{}: tiling {}x{}x{}, {} chunks, groups of {} rows: sizes must be positive, chunks at most 64",
         to_string(kernel), t.m, t.n, t.k, t.chunks, t.group_rows);
  if (t.splits > 1 && !splittable(kernel, t.splits, t.k, chip))
    fail("{}: k in {} parts of k-steps of {}: the {} k-steps must be a multiple of the parts, and their {} byte "
         "workspace fit chip {}'s L2 of {} bytes",
         to_string(kernel), t.splits, t.k, (kernel.k + t.k - 1) / t.k, gemm_workspace_bytes(kernel, t.splits),
         chip.name, chip.l2_bytes);
  if (t.splits < 1) fail("{}: k in {} parts: give 1 or more", to_string(kernel), t.splits);
  l->product = t.splits > 1 ? partial_kernel(kernel) : kernel;
  l->layout = gemm_layout(l->product, t);
  if (options.unbounded_scratchpad && options.program)
    fail("{}: a program needs its tiles in the scratchpad; an unbounded one is for timing only", to_string(kernel));
  if (l->layout.bytes > chip.scratchpad_bytes && !options.unbounded_scratchpad)
    fail("{}: tile {}x{}x{} needs {} bytes of scratchpad; chip {} has {}", to_string(kernel), t.m, t.n, t.k,
         l->layout.bytes, chip.name, chip.scratchpad_bytes);
  dump(options.ir, "tiling", to_string(t, l->layout, chip));

  l->partition = partition_gemm(l->product, t, chip);
  dump(options.ir, "partition", to_string(l->partition));

  l->schedule = schedule_gemm(l->product, t, l->partition);
  dump(options.ir, "schedule", to_string(l->schedule, l->partition));

  if (t.splits > 1) {
    l->reduction = plan_gemm_reduction(kernel, t.splits, chip);
    dump(options.ir, "reduction", to_string(l->reduction));
  }

  l->emitter = std::make_unique<GemmEmitter>(l->product, l->tiling, l->layout, l->partition);
  if (!options.program) return l;
  l->program = emit_gemm_program(*l->emitter, l->schedule, {});
  if (t.splits > 1) append_gemm_reduction(l->program, kernel, l->reduction);
  dump(options.ir, "program", isa::disassemble(l->program));

  isa::verify_program(l->program, chip, to_string(kernel));
  dump(options.ir, "verify", fmt::format("verified for chip {}\n", chip.name));
  return l;
}

}  // namespace tessera::compiler
