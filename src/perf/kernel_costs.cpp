// Kernel times on a chip (see kernel_costs.h).
#include "perf/kernel_costs.h"

#include <algorithm>
#include <fmt/format.h>

#include "compiler/gemm_tiling.h"
#include "perf/attention_cost.h"

namespace tessera::perf {

namespace {

constexpr int64_t kMinSplitK = 256;  // the shortest k range a split-K part is given

// fp32 vector operations per element of a memory-bound kernel's largest operand, in the
// units of the simulator's vector engine (sim/timing_vector.cpp): an add, multiply or compare
// is 1; exp, log, sqrt and division 4; gelu 8. Row kernels count their passes over a row
// (softmax: max, subtract, exp, sum, scale).
double ops_per_element(const KernelCall& call) {
  switch (call.kernel) {
    case Kernel::Binary: return static_cast<BinaryOp>(call.op) == BinaryOp::Div ? 4 : 1;
    case Kernel::Unary:
      switch (static_cast<UnaryOp>(call.op)) {
        case UnaryOp::Relu:
        case UnaryOp::Neg: return 1;
        case UnaryOp::Gelu: return 8;
        default: return 4;  // exp, log, sqrt
      }
    case Kernel::UnaryBackward: return static_cast<UnaryOp>(call.op) == UnaryOp::Gelu ? 16 : 1;
    case Kernel::Affine: return 2;
    case Kernel::ReduceMax: return 2;
    case Kernel::Softmax: return 8;
    case Kernel::SoftmaxBackward: return 3;
    case Kernel::LogSoftmax: return 7;
    case Kernel::LogSoftmaxBackward: return 6;
    case Kernel::CrossEntropy: return 6;
    case Kernel::CrossEntropyBackward: return 7;
    case Kernel::LayerNorm: return 8;
    case Kernel::LayerNormBackward: return 12;
    case Kernel::Embedding: return 0;
    case Kernel::DropoutMask: return 16;  // a counter-based hash per element
    case Kernel::AdamW:
    case Kernel::AdamWMany: return 16;  // moments, bias correction, sqrt, division, decay
    case Kernel::SgdMomentum: return 4;
    case Kernel::SumSquares:
    case Kernel::SumSquaresMany: return 2;
    case Kernel::ScaleMany: return 2;  // as affine
    case Kernel::BiasGelu: return 9;               // add, gelu
    case Kernel::BiasGeluBackward: return 18;      // add, gelu', multiply, column sum
    case Kernel::AddLayerNorm: return 9;           // add, layer norm
    case Kernel::AddLayerNormBackward: return 13;  // layer norm backward, add
    default: return 1;  // copy, fill, reduce, scatter, embedding backward, pooling
  }
}

double operand_bytes(const KernelOperand& o) {
  return static_cast<double>(o.distinct_bytes()) * (o.access == Access::ReadWrite ? 2 : 1);
}

// The GEMM a matmul call is timed as: (M, N, K) after folding the batch (kernel_costs.h).
arch::GemmShape folded_gemm(const MatmulArgs& a) {
  if (a.batch == 1) return {a.m, a.n, a.k};
  if (a.batch_stride_a == 0 && a.batch_stride_b != 0) return {a.m, a.batch * a.n, a.k};
  return {a.batch * a.m, a.n, a.k};
}

// The dtype a matrix engine is timed with for operands of `dtype`.
DType matrix_input(DType dtype, bool& as_bf16) {
  if (dtype == DType::BF16 || dtype == DType::F16) return dtype;
  as_bf16 = true;
  return DType::BF16;
}

// The output dtype a GEMM is timed with: f32 stays f32 (stored from the accumulator as it
// is); any other output dtype is the matrix input dtype.
DType gemm_output(DType output, DType input) { return output == DType::F32 ? DType::F32 : input; }

const KernelOperand& largest_operand(const KernelCall& call) {
  return *std::max_element(call.operands.begin(), call.operands.end(), [](const auto& a, const auto& b) {
    return a.distinct_elements() < b.distinct_elements();
  });
}

// The elements a kernel computes: its largest operand's, or for a multi-tensor kernel the sum of its read-only
// operands' (adamw_many: its gradients).
int64_t work_elements(const KernelCall& call) {
  if (call.kernel != Kernel::SumSquaresMany && call.kernel != Kernel::ScaleMany && call.kernel != Kernel::AdamWMany)
    return largest_operand(call).distinct_elements();
  int64_t n = 0;
  for (const KernelOperand& o : call.operands)
    if (o.access == Access::Read) n += o.distinct_elements();
  return n;
}

}  // namespace

double KernelCostModel::gemm_seconds(const GemmProblem& problem) {
  const arch::GemmShape& g = problem.shape;
  auto key = std::make_tuple(g.m, g.n, g.k, problem.input, problem.output);
  auto cached = split_gemm_cache_.find(key);
  if (cached != split_gemm_cache_.end()) return cached->second;
  double best = timer_.gemm_seconds(problem);
  compiler::GemmKernel kernel;
  kernel.m = g.m, kernel.n = g.n, kernel.k = g.k;
  kernel.a_dtype = kernel.b_dtype = problem.input, kernel.out_dtype = problem.output;
  compiler::GemmTiling tiling = compiler::plan_gemm_tiling(kernel, chip());
  int64_t tiles = ((g.m + tiling.m - 1) / tiling.m) * ((g.n + tiling.n - 1) / tiling.n);
  for (int64_t parts = 2; parts * tiles <= chip().cores && g.k / parts >= kMinSplitK; parts *= 2) {
    GemmProblem split = problem;
    split.shape = {parts * g.m, g.n, (g.k + parts - 1) / parts};
    double reduction = static_cast<double>((parts + 1) * g.m * g.n * 4) / figures_.hbm_bytes_per_s;
    best = std::min(best, timer_.gemm_seconds(split) + reduction);
  }
  split_gemm_cache_.emplace(key, best);
  return best;
}

KernelCostModel::KernelCostModel(const arch::ChipSpec& chip) : timer_(chip), figures_(arch::chip_figures(chip)) {}

KernelCost KernelCostModel::cost(const KernelCall& call) {
  double gemm = chip().gemm_overhead_s(), launch = chip().launch_overhead_s;
  switch (call.kernel) {
    case Kernel::Matmul: return finish(gemm_cost(call), gemm);
    case Kernel::Attention: return finish(attention_cost(call, false), gemm);
    case Kernel::AttentionBackward: return finish(attention_cost(call, true), gemm);
    case Kernel::Conv2d: return finish(conv_cost(call, false), gemm);
    case Kernel::Conv2dBackward: return finish(conv_cost(call, true), gemm);
    default: return finish(memory_bound_cost(call), launch);
  }
}

KernelCost KernelCostModel::finish(KernelCost c, double overhead_s) const {
  // Streaming kernels reach the share of the HBM bandwidth that a copy measures on the chip.
  c.memory_s = static_cast<double>(c.bytes) / (figures_.hbm_bytes_per_s * chip().hbm_efficiency);
  c.body_s = std::max(c.body_s, c.memory_s);
  c.compute_bound = c.compute_s >= c.memory_s;
  c.launch_s = overhead_s;
  c.seconds = c.body_s + c.launch_s;
  return c;
}

KernelCost KernelCostModel::gemm_cost(const KernelCall& call) {
  const MatmulArgs& args = call.matmul;
  KernelCost c;
  DType input = matrix_input(call.operands[0].dtype, c.f32_gemm_as_bf16);
  GemmProblem problem{folded_gemm(args), input, gemm_output(call.operands[2].dtype, input)};
  for (const KernelOperand& o : call.operands) c.bytes += static_cast<int64_t>(operand_bytes(o));
  c.flops = 2.0 * static_cast<double>(args.batch) * static_cast<double>(args.m) * static_cast<double>(args.n) *
            static_cast<double>(args.k);
  c.compute_s = c.flops / figures_.bf16_flops_per_s;
  c.body_s = gemm_seconds(problem);
  return c;
}

KernelCost KernelCostModel::attention_cost(const KernelCall& call, bool backward) {
  const Shape& q = call.operands[0].shape;  // (B, H, T, D)
  KernelCost c;
  AttentionShape shape{q[0] * q[1], q[2], q[3], matrix_input(call.operands[0].dtype, c.f32_gemm_as_bf16)};
  AttentionTime t = attention_time(timer_, shape, backward);
  for (const KernelOperand& o : call.operands) c.bytes += static_cast<int64_t>(operand_bytes(o));
  c.flops = t.flops;
  c.compute_s = t.seconds;
  c.body_s = c.compute_s;
  return c;
}

KernelCost KernelCostModel::conv_cost(const KernelCall& call, bool backward) {
  const Shape& x = call.operands[0].shape;                     // (N, C, H, W)
  const Shape& w = call.operands[1].shape;                     // (O, C, KH, KW)
  const Shape& y = call.operands[backward ? 2 : 3].shape;      // (N, O, OH, OW)
  int64_t rows = x[0] * y[2] * y[3], patch = w[1] * w[2] * w[3], out = w[0];
  KernelCost c;
  DType in = matrix_input(call.operands[0].dtype, c.f32_gemm_as_bf16);
  DType output = gemm_output(call.operands[3].dtype, in);  // y, or dx
  std::vector<arch::GemmShape> gemms;
  if (backward) {
    gemms = {{rows, patch, out}, {out, patch, rows}};
  } else {
    gemms = {{rows, out, patch}};
  }
  for (const arch::GemmShape& g : gemms) {
    c.body_s += gemm_seconds({g, in, output});
    c.flops += 2.0 * static_cast<double>(g.m) * static_cast<double>(g.n) * static_cast<double>(g.k);
  }
  for (const KernelOperand& o : call.operands) c.bytes += static_cast<int64_t>(operand_bytes(o));
  c.compute_s = c.flops / figures_.bf16_flops_per_s;
  return c;
}

KernelCost KernelCostModel::memory_bound_cost(const KernelCall& call) const {
  KernelCost c;
  double bytes = 0;
  for (size_t i = 0; i < call.operands.size(); ++i) {
    const KernelOperand& o = call.operands[i];
    bool table = (call.kernel == Kernel::Embedding && i == 1) || (call.kernel == Kernel::EmbeddingBackward && i == 2);
    if (table) {  // only the rows named by the ids: as many as the other side's elements
      const KernelOperand& rows = call.operands[call.kernel == Kernel::Embedding ? 2 : 1];
      bytes += static_cast<double>(rows.distinct_elements() * static_cast<int64_t>(dtype_size(o.dtype))) *
               (o.access == Access::ReadWrite ? 2 : 1);
    } else {
      bytes += operand_bytes(o);
    }
  }
  c.bytes = static_cast<int64_t>(bytes);
  c.flops = static_cast<double>(work_elements(call)) * ops_per_element(call);
  c.compute_s = c.flops / figures_.fp32_vector_flops_per_s;
  c.body_s = c.compute_s;
  return c;
}

std::string kernel_label(const KernelCall& call) {
  std::string dtype(dtype_name(call.operands[0].dtype));
  switch (call.kernel) {
    case Kernel::Matmul: {
      const MatmulArgs& a = call.matmul;
      std::string batch = a.batch == 1 ? "" : fmt::format("{} x ", a.batch);
      return fmt::format("matmul {}{}x{}x{} {}", batch, a.m, a.n, a.k, dtype);
    }
    case Kernel::Attention:
    case Kernel::AttentionBackward: {
      const Shape& q = call.operands[0].shape;
      return fmt::format("{} {}x{}x{} {}", kernel_name(call.kernel), q[0] * q[1], q[2], q[3], dtype);
    }
    case Kernel::Conv2d:
    case Kernel::Conv2dBackward:
      return fmt::format("{} x{} w{} {}", kernel_name(call.kernel), shape_str(call.operands[0].shape),
                         shape_str(call.operands[1].shape), dtype);
    default: {
      const KernelOperand& o = largest_operand(call);
      return fmt::format("{} {} {}", kernel_name(call.kernel), shape_str(o.shape), dtype_name(o.dtype));
    }
  }
}

}  // namespace tessera::perf
