// The GEMM tiling planner and scratchpad layout (see gemm_tiling.h).
#include "compiler/gemm_tiling.h"

#include <algorithm>
#include <fmt/format.h>
#include <map>
#include <tuple>
#include <vector>

#include "base/error.h"
#include "compiler/gemm_reduction.h"
#include "sim/timing.h"

namespace tessera::compiler {

namespace {

constexpr int64_t kAlign = 64;     // bytes; every buffer starts on this boundary
constexpr int kMaxDoublings = 10;  // tile sizes tried: granule x 1, 2, 4, ... 512
constexpr int64_t kDefaultChunks = 2;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Granules of the tile sizes: the array's side for a systolic engine; the smallest MMA tile
// and the MMA depth of 32 input bytes for tensor cores.
GemmTiling granules(const arch::ChipSpec& chip, DType input) {
  if (chip.matrix.kind == arch::MatrixKind::systolic) {
    int64_t side = std::max(chip.matrix.rows, chip.matrix.cols);
    return {side, side, side, 1};
  }
  return {chip.matrix.rows, chip.matrix.cols, 32 / static_cast<int64_t>(dtype_size(input)), 1};
}

// Tile sizes along a dimension of `dim`: the granule's powers of two, the whole dimension, and,
// when `parts` > 1, the dimension cut into 2 .. `parts` equal parts rounded up to the granule
// (768 over 4 cores: 192), so that a few tiles can cover the cores evenly.
// Whether the planner shapes tiles to the GEMM (even cuts, K splits): a systolic array's compiler
// does; the GPU presets keep the power-of-two tiles of the libraries they are measured with
// (cuBLAS; split-K is planned above the compiler, in perf/kernel_costs.h).
bool shapes_tiles(const arch::ChipSpec& chip) { return chip.matrix.kind == arch::MatrixKind::systolic; }

std::vector<int64_t> sizes(int64_t granule, int64_t dim, int64_t parts) {
  std::vector<int64_t> out;
  for (int p = 0; p < kMaxDoublings && (granule << p) < dim; ++p) out.push_back(granule << p);
  if (dim <= granule << kMaxDoublings) out.push_back(dim);
  for (int64_t p = 2; p <= parts; ++p) {
    int64_t size = ceil_div(ceil_div(dim, p), granule) * granule;
    if (size < dim && size <= granule << kMaxDoublings) out.push_back(size);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

double mma_cycles(const arch::ChipSpec& chip, DType input, int64_t m, int64_t n, int64_t k) {
  auto imm = [](int64_t v) { return isa::Operand{isa::OperandKind::Imm, v, {}}; };
  isa::Operand spm{isa::OperandKind::Addr, 0, {isa::Space::Spm, -1, -1, 0}};
  isa::Instruction mma{isa::Opcode::Mma,
                       {spm, spm, spm, imm(m), imm(n), imm(k),
                        {isa::OperandKind::DType, static_cast<int64_t>(input), {}},
                        {isa::OperandKind::AccMode, static_cast<int64_t>(isa::AccMode::Accumulate), {}}},
                       0};
  sim::TimingModel model(chip);
  return model.schedule({0, isa::Engine::Matrix, mma}, 0).end_cycle;
}

}  // namespace

bool prepares_a(const GemmKernel& k) { return k.transpose_a || k.a_dtype != k.matrix_dtype(); }
bool prepares_b(const GemmKernel& k) { return k.transpose_b || k.b_dtype != k.matrix_dtype(); }
bool vector_epilogue(const GemmKernel& k) { return k.accumulate || k.out_dtype != DType::F32; }

GemmLayout gemm_layout(const GemmKernel& kernel, const GemmTiling& t) {
  auto es = [](DType d) { return static_cast<int64_t>(dtype_size(d)); };
  int64_t mat = es(kernel.matrix_dtype()), out = es(kernel.out_dtype);
  GemmLayout l;
  auto place = [&](int64_t bytes) {
    int64_t at = l.bytes;
    l.bytes += (bytes + kAlign - 1) / kAlign * kAlign;
    return at;
  };
  for (int i = 0; i < 2; ++i) l.a[i] = place(t.m * t.k * mat);
  for (int i = 0; i < 2; ++i) l.b[i] = place(t.k * t.n * mat);
  if (prepares_a(kernel))
    for (int i = 0; i < 2; ++i) l.raw_a[i] = place(t.m * t.k * es(kernel.a_dtype));
  if (prepares_b(kernel))
    for (int i = 0; i < 2; ++i) l.raw_b[i] = place(t.k * t.n * es(kernel.b_dtype));
  bool tmp_a = kernel.transpose_a && kernel.a_dtype != kernel.matrix_dtype();
  bool tmp_b = kernel.transpose_b && kernel.b_dtype != kernel.matrix_dtype();
  if (tmp_a || tmp_b) l.tmp = place(std::max(tmp_a ? t.m * t.k : 0, tmp_b ? t.k * t.n : 0) * mat);
  l.acc = place(t.m * t.n * 4);
  if (vector_epilogue(kernel)) l.out = place(t.m * t.n * out);
  if (kernel.accumulate) {
    l.old = place(t.m * t.n * out);
    if (kernel.out_dtype != DType::F32) l.old_f32 = place(t.m * t.n * 4);
  }
  return l;
}

std::vector<std::pair<GemmTiling, double>> gemm_tiling_candidates(const GemmKernel& kernel,
                                                                   const arch::ChipSpec& chip) {
  DType input = kernel.matrix_dtype();
  GemmTiling g = granules(chip, input);
  auto in = static_cast<double>(dtype_size(input));
  double l2_per_cycle = (chip.l2_bytes_per_s > 0 ? chip.l2_bytes_per_s : chip.hbm_bytes_per_s) / chip.clock_hz;
  double l2_per_core = l2_per_cycle / static_cast<double>(chip.cores);
  const GemmKernel partial = partial_kernel(kernel);
  std::map<std::tuple<int64_t, int64_t, int64_t>, double> mma;  // by (m, n, k)
  auto mma_time = [&](int64_t m, int64_t n, int64_t k) {
    auto [at, added] = mma.try_emplace({m, n, k}, 0.0);
    if (added) at->second = mma_cycles(chip, input, m, n, k);
    return at->second;
  };
  std::vector<std::pair<GemmTiling, double>> out;
  const int64_t parts = shapes_tiles(chip) ? chip.cores : 1, most_splits = shapes_tiles(chip) ? chip.cores : 1;
  for (int64_t tm : sizes(g.m, kernel.m, parts)) {
    for (int64_t tn : sizes(g.n, kernel.n, parts)) {
      for (int64_t tk : sizes(g.k, kernel.k, 1)) {
        auto step = [&](int64_t k) {
          return std::max(mma_time(tm, tn, k), static_cast<double>(tm + tn) * k * in / l2_per_core);
        };
        int64_t tiles = kernel.batch * ceil_div(kernel.m, tm) * ceil_div(kernel.n, tn);
        int64_t k_steps = ceil_div(kernel.k, tk);
        for (int64_t splits = 1; splits <= most_splits; splits *= 2) {
          if (splits > 1 && (tiles >= chip.cores || !splittable(kernel, splits, tk, chip))) break;
          GemmTiling t{tm, tn, tk, std::min(kDefaultChunks, tm), 8, splits};
          if (gemm_layout(splits > 1 ? partial : kernel, t).bytes > chip.scratchpad_bytes) continue;
          // The last part holds the k remainder.
          int64_t steps = k_steps / splits;
          double tile = static_cast<double>(steps - 1) * step(tk) + step(kernel.k - (k_steps - 1) * tk);
          double cycles = static_cast<double>(ceil_div(tiles * splits, chip.cores)) * tile;
          if (splits > 1) cycles += static_cast<double>(2 * gemm_workspace_bytes(kernel, splits)) / l2_per_cycle;
          out.emplace_back(t, cycles);
        }
      }
    }
  }
  // Fastest first; among equals the larger tile (less traffic), then the deeper k-step, then fewer splits.
  std::stable_sort(out.begin(), out.end(), [](const auto& x, const auto& y) {
    if (x.second < y.second * (1 - 1e-9)) return true;
    if (y.second < x.second * (1 - 1e-9)) return false;
    return std::make_tuple(x.first.m * x.first.n, x.first.k, -x.first.splits) >
           std::make_tuple(y.first.m * y.first.n, y.first.k, -y.first.splits);
  });
  return out;
}

GemmTiling ideal_gemm_tiling(const GemmKernel& kernel, const arch::ChipSpec& chip) {
  GemmTiling g = granules(chip, kernel.matrix_dtype());
  auto round_up = [](int64_t value, int64_t granule) { return ceil_div(value, granule) * granule; };
  int64_t parts_n = std::min(chip.cores, ceil_div(kernel.n, g.n));
  int64_t tile_n = std::min(kernel.n, round_up(ceil_div(kernel.n, parts_n), g.n));
  int64_t parts_m = std::max<int64_t>(1, chip.cores / ceil_div(kernel.n, tile_n));
  int64_t tile_m = std::min(kernel.m, round_up(ceil_div(kernel.m, parts_m), g.m));
  return {tile_m, tile_n, kernel.k, 1};
}

GemmTiling plan_gemm_tiling(const GemmKernel& kernel, const arch::ChipSpec& chip) {
  std::vector<std::pair<GemmTiling, double>> candidates = gemm_tiling_candidates(kernel, chip);
  if (candidates.empty()) {
    GemmTiling g = granules(chip, kernel.matrix_dtype());
    fail("{}: no tile of {}x{}x{} or more fits the {} byte scratchpad of chip {}", to_string(kernel), g.m, g.n, g.k,
         chip.scratchpad_bytes, chip.name);
  }
  return candidates.front().first;
}

std::string to_string(const GemmTiling& t, const GemmLayout& l, const arch::ChipSpec& chip) {
  std::string s = fmt::format("tile {}x{}x{} (m x n x k), last k-step in {} row chunk{}, ", t.m, t.n, t.k,
                              t.chunks, t.chunks == 1 ? "" : "s");
  s += fmt::format("groups of {} tile rows", t.group_rows);
  s += t.splits > 1 ? fmt::format(", k in {} parts\n", t.splits) : "\n";
  s += "scratchpad:";
  auto pair = [&](const char* name, const std::array<int64_t, 2>& at) {
    if (at[0] >= 0) s += fmt::format(" {} {:#x} {:#x};", name, at[0], at[1]);
  };
  auto one = [&](const char* name, int64_t at) {
    if (at >= 0) s += fmt::format(" {} {:#x};", name, at);
  };
  pair("a", l.a), pair("b", l.b), pair("raw_a", l.raw_a), pair("raw_b", l.raw_b);
  one("tmp", l.tmp), one("acc", l.acc), one("out", l.out), one("old", l.old), one("old_f32", l.old_f32);
  s += fmt::format(" {} of {} bytes\n", l.bytes, chip.scratchpad_bytes);
  return s;
}

}  // namespace tessera::compiler
