// The tiled GEMM program and the choice of its tile.
#include "sim/gemm_program.h"

#include <algorithm>
#include <memory>

#include "base/error.h"
#include "sim/timing_operands.h"

namespace tessera::sim {

namespace {

constexpr int64_t kGroupRows = 8;  // tile rows per group of the tile order
constexpr int kMaxDoublings = 10;  // tile sizes tried: granule x 1, 2, 4, ... 512

isa::Operand imm(int64_t value) { return {isa::OperandKind::Imm, value, {}}; }
isa::Operand addr(isa::Space space, int64_t offset) { return {isa::OperandKind::Addr, 0, {space, -1, -1, offset}}; }
isa::Operand dtype(DType d) { return {isa::OperandKind::DType, static_cast<int64_t>(d), {}}; }

isa::Instruction sync(isa::Opcode op, isa::Engine engine, int semaphore) {
  return {op, {{isa::OperandKind::EngineName, static_cast<int64_t>(engine), {}}, imm(semaphore)}, 0};
}

isa::Instruction copy(isa::Operand dst, isa::Operand src, int64_t rows, int64_t row_bytes, int64_t dst_stride,
                      int64_t src_stride) {
  return {isa::Opcode::DmaCopy, {dst, src, imm(rows), imm(row_bytes), imm(dst_stride), imm(src_stride)}, 0};
}

// Semaphores of the program.
enum Semaphore : int {
  kFull0 = 0,   // a and b buffer 0/1 loaded (DMA -> matrix)
  kFree0 = 2,   // a and b buffer 0/1 consumed (matrix -> DMA)
  kAccReady = 4,  // the accumulator holds a finished tile (matrix -> vector, or DMA for f32)
  kAccFree = 5,   // the accumulator has been read (vector or DMA -> matrix)
  kOutReady = 6,  // the output tile is converted (vector -> DMA)
  kOutFree = 7,   // the output tile is stored (DMA -> vector)
};

// Byte offsets of the operands in HBM and of the buffers in a core's scratchpad.
struct Layout {
  int64_t a = 0, b = 0, c = 0;                                        // HBM
  std::array<int64_t, 2> a_buffer{}, b_buffer{};
  int64_t acc = 0, out = 0;                                           // scratchpad
  int64_t spm_bytes = 0;
};

Layout layout(const GemmProblem& p, const GemmTiling& t) {
  auto in = static_cast<int64_t>(dtype_size(p.input)), out = static_cast<int64_t>(dtype_size(p.output));
  Layout l;
  l.b = p.shape.m * p.shape.k * in;
  l.c = l.b + p.shape.k * p.shape.n * in;
  int64_t at = 0;
  for (int i = 0; i < 2; ++i) l.a_buffer[i] = at, at += t.m * t.k * in;
  for (int i = 0; i < 2; ++i) l.b_buffer[i] = at, at += t.k * t.n * in;
  l.acc = at, at += t.m * t.n * 4;
  l.out = at;
  if (p.output != DType::F32) at += t.m * t.n * out;
  l.spm_bytes = at;
  return l;
}

// One core's position in the program.
struct CoreWork {
  int64_t next_tile = 0;  // in tile order
  int64_t tiles_done = 0, k_steps_done = 0;
  bool store_pending = false;
  int64_t pending_i = 0, pending_j = 0;
};

class GemmWork {
 public:
  GemmWork(const ChipSpec& chip, const GemmProblem& problem, const GemmTiling& tiling)
      : p_(problem), t_(tiling), l_(layout(problem, tiling)), cores_(chip.cores) {
    tiles_m_ = divide_up(p_.shape.m, t_.m);
    tiles_n_ = divide_up(p_.shape.n, t_.n);
    work_.resize(static_cast<size_t>(cores_));
    for (int64_t c = 0; c < cores_; ++c) work_[static_cast<size_t>(c)].next_tile = c;
  }

  bool next(int core, EngineQueues& q) {
    CoreWork& w = work_.at(static_cast<size_t>(core));
    if (w.next_tile < tiles_m_ * tiles_n_) {
      auto [i, j] = tile_position(w.next_tile);
      emit_tile(w, i, j, q);
      w.store_pending = true, w.pending_i = i, w.pending_j = j;
      w.next_tile += cores_;
      return true;
    }
    if (!w.store_pending) return false;
    emit_store(w.pending_i, w.pending_j, q);
    w.store_pending = false;
    return true;
  }

 private:
  // Tile `s` of the order: groups of kGroupRows tile rows, column by column within a group.
  std::pair<int64_t, int64_t> tile_position(int64_t s) const {
    int64_t group = s / (kGroupRows * tiles_n_);
    int64_t first_row = group * kGroupRows;
    int64_t rows = std::min(kGroupRows, tiles_m_ - first_row);
    int64_t local = s % (kGroupRows * tiles_n_);
    return {first_row + local % rows, local / rows};
  }

  int64_t rows_of(int64_t i) const { return std::min(t_.m, p_.shape.m - i * t_.m); }
  int64_t cols_of(int64_t j) const { return std::min(t_.n, p_.shape.n - j * t_.n); }

  void emit_tile(CoreWork& w, int64_t i, int64_t j, EngineQueues& q) {
    using isa::Engine;
    auto in = static_cast<int64_t>(dtype_size(p_.input));
    int64_t K = p_.shape.k, N = p_.shape.n, mi = rows_of(i), nj = cols_of(j);
    std::deque<isa::Instruction>&dma = q[0], &matrix = q[1], &vector = q[2];
    if (w.tiles_done > 0) matrix.push_back(sync(isa::Opcode::Wait, Engine::Matrix, kAccFree));
    for (int64_t kk = 0; kk * t_.k < K; ++kk, ++w.k_steps_done) {
      int buffer = static_cast<int>(w.k_steps_done % 2);
      int64_t kc = std::min(t_.k, K - kk * t_.k);
      if (w.k_steps_done >= 2) dma.push_back(sync(isa::Opcode::Wait, Engine::Dma, kFree0 + buffer));
      dma.push_back(copy(addr(isa::Space::Spm, l_.a_buffer[buffer]),
                         addr(isa::Space::Hbm, l_.a + (i * t_.m * K + kk * t_.k) * in), mi, kc * in, kc * in, K * in));
      dma.push_back(copy(addr(isa::Space::Spm, l_.b_buffer[buffer]),
                         addr(isa::Space::Hbm, l_.b + (kk * t_.k * N + j * t_.n) * in), kc, nj * in, nj * in, N * in));
      dma.push_back(sync(isa::Opcode::Signal, Engine::Dma, kFull0 + buffer));
      // The previous tile's store follows the loads that fill both buffers, the ones that
      // need no k-step of this tile consumed: later loads wait for this tile's mmas, which
      // wait for the accumulator (or the output buffer) that the store frees.
      bool filled = kk == 1 || (kk + 1) * t_.k >= K;
      if (filled && w.store_pending) emit_store(w.pending_i, w.pending_j, q), w.store_pending = false;
      matrix.push_back(sync(isa::Opcode::Wait, Engine::Matrix, kFull0 + buffer));
      auto mode = kk == 0 ? isa::AccMode::Overwrite : isa::AccMode::Accumulate;
      matrix.push_back({isa::Opcode::Mma,
                        {addr(isa::Space::Spm, l_.acc), addr(isa::Space::Spm, l_.a_buffer[buffer]),
                         addr(isa::Space::Spm, l_.b_buffer[buffer]), imm(mi), imm(nj), imm(kc), dtype(p_.input),
                         {isa::OperandKind::AccMode, static_cast<int64_t>(mode), {}}},
                        0});
      matrix.push_back(sync(isa::Opcode::Signal, Engine::Matrix, kFree0 + buffer));
    }
    matrix.push_back(sync(isa::Opcode::Signal, Engine::Matrix, kAccReady));
    if (p_.output != DType::F32) {
      vector.push_back(sync(isa::Opcode::Wait, Engine::Vector, kAccReady));
      if (w.tiles_done > 0) vector.push_back(sync(isa::Opcode::Wait, Engine::Vector, kOutFree));
      vector.push_back({isa::Opcode::VConvert,
                        {addr(isa::Space::Spm, l_.out), dtype(p_.output), addr(isa::Space::Spm, l_.acc),
                         dtype(DType::F32), imm(mi), imm(nj),
                         {isa::OperandKind::Rounding, static_cast<int64_t>(isa::Rounding::Rne), {}},
                         {isa::OperandKind::Reg, 0, {}}},
                        0});
      vector.push_back(sync(isa::Opcode::Signal, Engine::Vector, kAccFree));
      vector.push_back(sync(isa::Opcode::Signal, Engine::Vector, kOutReady));
    }
    ++w.tiles_done;
  }

  void emit_store(int64_t i, int64_t j, EngineQueues& q) {
    using isa::Engine;
    bool f32 = p_.output == DType::F32;
    auto out = static_cast<int64_t>(dtype_size(p_.output));
    int64_t N = p_.shape.n, mi = rows_of(i), nj = cols_of(j);
    std::deque<isa::Instruction>& dma = q[0];
    dma.push_back(sync(isa::Opcode::Wait, Engine::Dma, f32 ? kAccReady : kOutReady));
    dma.push_back(copy(addr(isa::Space::Hbm, l_.c + (i * t_.m * N + j * t_.n) * out),
                       addr(isa::Space::Spm, f32 ? l_.acc : l_.out), mi, nj * out, N * out, nj * out));
    dma.push_back(sync(isa::Opcode::Signal, Engine::Dma, f32 ? kAccFree : kOutFree));
  }

  GemmProblem p_;
  GemmTiling t_;
  Layout l_;
  int64_t cores_, tiles_m_ = 0, tiles_n_ = 0;
  std::vector<CoreWork> work_;
};

// Granules of the tile sizes: the array's side for a systolic engine; the smallest MMA tile
// and the MMA depth of 32 input bytes for tensor cores.
GemmTiling granules(const ChipSpec& chip, DType input) {
  if (chip.matrix.kind == arch::MatrixKind::systolic) {
    int64_t side = std::max(chip.matrix.rows, chip.matrix.cols);
    return {side, side, side};
  }
  return {chip.matrix.rows, chip.matrix.cols, 32 / static_cast<int64_t>(dtype_size(input))};
}

std::vector<int64_t> sizes(int64_t granule, int64_t dim) {
  std::vector<int64_t> out;
  for (int p = 0; p < kMaxDoublings && (granule << p) < dim; ++p) out.push_back(granule << p);
  if (dim <= granule << kMaxDoublings) out.push_back(dim);
  return out;
}

int64_t round_up(int64_t value, int64_t granule) { return divide_up(value, granule) * granule; }

GemmTiling ideal_tiling(const ChipSpec& chip, const GemmProblem& p, const GemmTiling& g) {
  const arch::GemmShape& s = p.shape;
  int64_t parts_n = std::min(chip.cores, divide_up(s.n, g.n));
  int64_t tile_n = std::min(s.n, round_up(divide_up(s.n, parts_n), g.n));
  int64_t parts_m = std::max<int64_t>(1, chip.cores / divide_up(s.n, tile_n));
  int64_t tile_m = std::min(s.m, round_up(divide_up(s.m, parts_m), g.m));
  return {tile_m, tile_n, s.k};
}

double mma_cycles(const ChipSpec& chip, const GemmProblem& p, int64_t m, int64_t n, int64_t k) {
  TimingModel model(chip);
  isa::Instruction mma{isa::Opcode::Mma,
                       {addr(isa::Space::Spm, 0), addr(isa::Space::Spm, 0), addr(isa::Space::Spm, 0), imm(m), imm(n),
                        imm(k), dtype(p.input), {isa::OperandKind::AccMode, 1, {}}},
                       0};
  return model.schedule({0, isa::Engine::Matrix, mma}, 0).end_cycle;
}

}  // namespace

GemmTiling choose_gemm_tiling(const ChipSpec& chip, const GemmProblem& problem, bool ideal_bandwidth) {
  const arch::GemmShape& s = problem.shape;
  if (s.m <= 0 || s.n <= 0 || s.k <= 0) fail("GEMM {}x{}x{}: sizes must be positive", s.m, s.n, s.k);
  GemmTiling g = granules(chip, problem.input);
  if (ideal_bandwidth) return ideal_tiling(chip, problem, g);

  auto in = static_cast<double>(dtype_size(problem.input));
  double l2_per_core = (chip.l2_bytes_per_s > 0 ? chip.l2_bytes_per_s : chip.hbm_bytes_per_s) / chip.clock_hz /
                       static_cast<double>(chip.cores);
  GemmTiling best;
  double best_cycles = 0;
  for (int64_t tm : sizes(g.m, s.m)) {
    for (int64_t tn : sizes(g.n, s.n)) {
      for (int64_t tk : sizes(g.k, s.k)) {
        GemmTiling t{tm, tn, tk};
        if (layout(problem, t).spm_bytes > chip.scratchpad_bytes) continue;
        auto step = [&](int64_t k) {
          return std::max(mma_cycles(chip, problem, tm, tn, k), static_cast<double>(tm + tn) * k * in / l2_per_core);
        };
        double tile = static_cast<double>(s.k / tk) * step(tk) + (s.k % tk ? step(s.k % tk) : 0);
        double waves = static_cast<double>(divide_up(divide_up(s.m, tm) * divide_up(s.n, tn), chip.cores));
        double cycles = waves * tile;
        bool better = best.m == 0 || cycles < best_cycles * (1 - 1e-9) ||
                      (cycles <= best_cycles * (1 + 1e-9) &&
                       std::make_pair(tm * tn, tk) > std::make_pair(best.m * best.n, best.k));
        if (better) best = t, best_cycles = cycles;
      }
    }
  }
  if (best.m == 0) {
    fail("GEMM {}x{}x{}: no tile of {}x{}x{} or more fits the {} byte scratchpad of chip {}", s.m, s.n, s.k, g.m, g.n,
         g.k, chip.scratchpad_bytes, chip.name);
  }
  return best;
}

WorkSource gemm_work(const ChipSpec& chip, const GemmProblem& problem, const GemmTiling& tiling) {
  auto work = std::make_shared<GemmWork>(chip, problem, tiling);
  return [work](int core, EngineQueues& queues) { return work->next(core, queues); };
}

}  // namespace tessera::sim
