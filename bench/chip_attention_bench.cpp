// Causal attention on a simulated chip: the forward and backward programs of
// compiler/attention_program.h, run with the timing model on bf16 operands of a gpt-mini-like
// and a GPT-2 124M shape. Prints each program's simulated time, the attention FLOP/s it
// achieves (4 B H T^2 D / 2 for the causal forward, 2.5x that for the backward) beside the
// chip's bf16 peak, and the simulator's per-engine summary.
//
// Usage: bench_chip_attention [CHIP] [MAX_BLOCK]   (defaults t1 and 128)
#include <cmath>
#include <cstdio>
#include <string>

#include "arch/chip_figures.h"
#include "arch/chip_loader.h"
#include "compiler/attention_program.h"
#include "sim/simulator.h"
#include "sim/stats.h"

namespace {

using namespace tessera;

struct Case {
  const char* name;
  int64_t batch, heads, seq, head_dim;
};

double run(sim::Simulator& simulator, const isa::Program& program, bool print) {
  sim::TimingModel timing(simulator.chip());
  sim::Stats stats(simulator.chip());
  sim::SimOptions options;
  options.timing = &timing;
  options.observers = {&stats};
  sim::SimResult result = simulator.run(program, options);
  if (print) std::printf("%s", stats.summary().c_str());
  return result.seconds;
}

}  // namespace

int main(int argc, char** argv) {
  std::string chip_name = argc > 1 ? argv[1] : "t1";
  arch::ChipSpec chip = arch::load_chip(chip_name);
  sim::Simulator simulator(chip);
  double peak = arch::chip_figures(chip).bf16_flops_per_s;
  const Case cases[] = {{"gpt-mini", 4, 4, 128, 32}, {"gpt2-124m", 8, 12, 1024, 64}};
  for (const Case& c : cases) {
    compiler::AttentionProgram a;
    a.heads = c.batch * c.heads, a.seq = c.seq, a.head_dim = c.head_dim;
    a.scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
    a.dtype = DType::BF16;
    if (argc > 2) a.max_block = std::stoll(argv[2]);
    int64_t array = a.heads * a.seq * a.head_dim * 2, next = 0;
    for (int64_t* addr : {&a.q, &a.k, &a.v, &a.out, &a.dout, &a.dq, &a.dk, &a.dv}) *addr = next, next += array;
    a.lse = next, next += a.heads * a.seq * 4;
    a.scratch = next;
    double forward_flops = 4.0 * a.heads * a.seq * a.seq * a.head_dim / 2;
    std::printf("== %s: B %lld, H %lld, T %lld, D %lld on %s\n", c.name, static_cast<long long>(c.batch),
                static_cast<long long>(c.heads), static_cast<long long>(c.seq), static_cast<long long>(c.head_dim),
                chip.name.c_str());
    double fwd = run(simulator, compiler::attention_forward_program(chip, a), true);
    double bwd = run(simulator, compiler::attention_backward_program(chip, a), true);
    double launch = 2 * chip.launch_overhead_s;
    std::printf("forward  %9.3f us  %7.2f TFLOP/s\n", fwd * 1e6, forward_flops / fwd / 1e12);
    std::printf("backward %9.3f us  %7.2f TFLOP/s\n", bwd * 1e6, 2.5 * forward_flops / bwd / 1e12);
    std::printf("fwd+bwd  %9.3f us  %7.2f TFLOP/s (%.1f %% of the %.1f bf16 peak); with 2 launch overheads %.3f us\n\n",
                (fwd + bwd) * 1e6, 3.5 * forward_flops / (fwd + bwd) / 1e12,
                100 * 3.5 * forward_flops / (fwd + bwd) / peak, peak / 1e12, (fwd + bwd + launch) * 1e6);
  }
  return 0;
}
