// Kernel micro-benchmarks of the "cpu" backend on the shapes of one GPT-2 124M training step
// (B=4, T=64: 256 token rows, C=768, 12 heads, vocab 50257) and of the Fashion-MNIST CNN.
// GEMMs report GFLOP/s, memory-bound kernels bytes/s. The context line gives the machine's
// fp32 peak (backends/cpu/cpu_peak.h): cores x FMA lanes x 2 x the measured clock.
#include <benchmark/benchmark.h>
// GCC 12 misreports its own AVX-512 intrinsics as reading uninitialised values once inlined.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "backends/cpu/cpu_peak.h"

namespace tessera {
namespace {

Backend& cpu() { return backend("cpu"); }

// A device buffer of `shape` filled with small values (so exp and norms stay finite).
struct Buffer {
  std::shared_ptr<void> memory;
  View view;
  Buffer(const Shape& shape, DType dtype = DType::F32, float value = 0.01f) {
    memory = cpu().allocate(static_cast<size_t>(numel(shape)) * dtype_size(dtype));
    view = View{memory.get(), dtype, shape, contiguous_strides(shape)};
    cpu().fill(view, value);
  }
};

void set_flops(benchmark::State& state, double flops_per_iteration) {
  state.counters["GFLOP/s"] = benchmark::Counter(flops_per_iteration * 1e-9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

// GEMM shapes (M, N, K, transpose_a, transpose_b) of the step: Linear weights stored (in, out)
// (x @ W, dx = dy @ W^T, dW = x^T @ dy) and the tied lm head x @ wte^T with wte (V, C).
void BM_Gemm(benchmark::State& state) {
  int64_t m = state.range(0), n = state.range(1), k = state.range(2);
  bool ta = state.range(3), tb = state.range(4);
  DType dtype = state.range(5) ? DType::BF16 : DType::F32;
  Buffer a({ta ? k : m, ta ? m : k}, dtype), b({tb ? n : k, tb ? k : n}, dtype), c({m, n}, dtype);
  MatmulArgs args{1, m, n, k, ta, tb, 0, 0, 0, false};
  for (auto _ : state) cpu().matmul(a.view, b.view, c.view, args);
  set_flops(state, 2.0 * m * n * k);
}
void gemm_shapes(benchmark::internal::Benchmark* bench) {
  bench->ArgNames({"M", "N", "K", "ta", "tb", "bf16"});
  for (int64_t bf16 : {0, 1}) {
    bench->Args({256, 2304, 768, 0, 0, bf16});    // qkv forward
    bench->Args({256, 768, 2304, 0, 1, bf16});    // qkv dx
    bench->Args({768, 2304, 256, 1, 0, bf16});    // qkv dweight
    bench->Args({256, 768, 768, 0, 0, bf16});     // attention projection forward
    bench->Args({256, 3072, 768, 0, 0, bf16});    // fc forward
    bench->Args({256, 768, 3072, 0, 0, bf16});    // fc projection forward
    bench->Args({256, 3072, 768, 0, 1, bf16});    // fc projection dx
    bench->Args({768, 3072, 256, 1, 0, bf16});    // fc dweight
    bench->Args({256, 50257, 768, 0, 1, bf16});   // lm head forward
    bench->Args({256, 768, 50257, 0, 0, bf16});   // lm head dx
    bench->Args({50257, 768, 256, 1, 0, bf16});   // lm head dweight
  }
}
BENCHMARK(BM_Gemm)->Apply(gemm_shapes)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Attention(benchmark::State& state) {
  Shape shape = {4, 12, 64, 64};
  Buffer q(shape), k(shape), v(shape), out(shape), lse({4, 12, 64});
  Buffer dout(shape), dq(shape), dk(shape), dv(shape);
  bool backward = state.range(0);
  for (auto _ : state) {
    if (backward)
      cpu().attention_backward(q.view, k.view, v.view, out.view, lse.view, dout.view, dq.view,
                               dk.view, dv.view, 0.125f);
    else
      cpu().attention(q.view, k.view, v.view, out.view, lse.view, 0.125f);
  }
  // Full (unmasked) products: 2 per head forward, 5 backward, 2 T^2 D flops each.
  set_flops(state, (backward ? 5 : 2) * 48 * 2.0 * 64 * 64 * 64);
}
BENCHMARK(BM_Attention)->ArgName("backward")->Arg(0)->Arg(1)->UseRealTime();

void BM_GeluForwardBackward(benchmark::State& state) {
  Buffer x({256, 3072}), dy({256, 3072}), y({256, 3072}), dx({256, 3072});
  for (auto _ : state) {
    cpu().unary(UnaryOp::Gelu, x.view, y.view);
    cpu().unary_backward(UnaryOp::Gelu, x.view, dy.view, dx.view);
  }
  state.SetBytesProcessed(state.iterations() * 5 * 256 * 3072 * 4);
}
BENCHMARK(BM_GeluForwardBackward)->UseRealTime();

void BM_BiasAdd(benchmark::State& state) {
  Buffer x({256, 3072}), bias({3072}), y({256, 3072});
  View b = bias.view;
  b.shape = {256, 3072};
  b.strides = {0, 1};
  for (auto _ : state) cpu().binary(BinaryOp::Add, x.view, b, y.view);
  state.SetBytesProcessed(state.iterations() * 2 * 256 * 3072 * 4);
}
BENCHMARK(BM_BiasAdd)->UseRealTime();

void BM_BiasGradient(benchmark::State& state) {
  Buffer dy({256, 3072}), db({3072});
  for (auto _ : state) cpu().reduce(ReduceOp::Sum, dy.view, db.view, 1, 256, 3072);
  state.SetBytesProcessed(state.iterations() * 256 * 3072 * 4);
}
BENCHMARK(BM_BiasGradient)->UseRealTime();

void BM_LayerNormForwardBackward(benchmark::State& state) {
  Buffer x({256, 768}), w({768}, DType::F32, 1.0f), b({768}), y({256, 768}), mean({256}),
      rstd({256}), dy({256, 768}), dx({256, 768}), dw({768}), db({768});
  for (auto _ : state) {
    cpu().layer_norm(x.view, w.view, b.view, y.view, mean.view, rstd.view, 1e-5f);
    cpu().layer_norm_backward(dy.view, x.view, w.view, mean.view, rstd.view, dx.view, dw.view,
                              db.view);
  }
  state.SetBytesProcessed(state.iterations() * 7 * 256 * 768 * 4);
}
BENCHMARK(BM_LayerNormForwardBackward)->UseRealTime();

void BM_CrossEntropyForwardBackward(benchmark::State& state) {
  Buffer logits({256, 50257}), targets({256}, DType::I64, 7.0f), losses({256}), lse({256}),
      dlosses({256}, DType::F32, 1.0f / 256), dlogits({256, 50257});
  for (auto _ : state) {
    cpu().cross_entropy(logits.view, targets.view, losses.view, lse.view);
    cpu().cross_entropy_backward(logits.view, targets.view, lse.view, dlosses.view, dlogits.view);
  }
  state.SetBytesProcessed(state.iterations() * 3 * 256 * 50257 * 4);
}
BENCHMARK(BM_CrossEntropyForwardBackward)->Unit(benchmark::kMillisecond)->UseRealTime();

// 16M parameters (an eighth of GPT-2 124M): param, grad, m, v read, three written.
void BM_AdamW(benchmark::State& state) {
  int64_t n = 16 << 20;
  Buffer p({n}), g({n}), m({n}), v({n});
  AdamWArgs args;
  args.weight_decay = 0.1f;
  for (auto _ : state) cpu().adamw(p.view, g.view, m.view, v.view, args);
  state.SetBytesProcessed(state.iterations() * 7 * n * 4);
}
BENCHMARK(BM_AdamW)->Unit(benchmark::kMillisecond)->UseRealTime();

// The Fashion-MNIST CNN's convolutions at batch 128, forward and backward.
void BM_Conv2d(benchmark::State& state) {
  int64_t c = state.range(0), o = state.range(1), hw = state.range(2), batch = 128;
  Buffer x({batch, c, hw, hw}), w({o, c, 3, 3}), b({o}), y({batch, o, hw, hw});
  Buffer dy({batch, o, hw, hw}), dx({batch, c, hw, hw}), dw({o, c, 3, 3}), db({o});
  Conv2dArgs args{1, 1};
  for (auto _ : state) {
    cpu().conv2d(x.view, w.view, b.view, y.view, args);
    cpu().conv2d_backward(x.view, w.view, dy.view, dx.view, dw.view, db.view, args);
  }
  set_flops(state, 3 * 2.0 * batch * o * hw * hw * c * 9);
}
BENCHMARK(BM_Conv2d)->ArgNames({"C", "O", "HW"})->Args({1, 16, 28})->Args({16, 32, 14})->Unit(benchmark::kMillisecond)->UseRealTime();

// fp32 GFLOP/s of one core running independent 16-lane FMAs (at the clock it really runs at):
// the best of several short trials, so that a trial the scheduler interrupts does not count.
}  // namespace
}  // namespace tessera

int main(int argc, char** argv) {
  tessera::CpuPeak peak = tessera::detect_cpu_peak();
  benchmark::AddCustomContext("fp32_peak_gflops", std::to_string(static_cast<int>(peak.gflops())) + " = " + peak.basis);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
