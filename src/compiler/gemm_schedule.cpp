// The GEMM schedule pass (see gemm_schedule.h).
#include "compiler/gemm_schedule.h"

#include <algorithm>
#include <fmt/format.h>

namespace tessera::compiler {

namespace {

constexpr int32_t kPrintedTiles = 2;

using Op = GemmStep::Op;

GemmStep step(Op op, int64_t tile, int64_t kk, int buffer) {
  GemmStep s;
  s.op = op, s.tile = static_cast<int32_t>(tile), s.kk = static_cast<int32_t>(kk);
  s.buffer = static_cast<int8_t>(buffer);
  return s;
}

class CoreScheduler {
 public:
  CoreScheduler(const GemmKernel& k, const GemmTiling& t, int64_t tiles, int64_t k_steps, std::vector<GemmStep>& out)
      : k_(k), t_(t), tiles_(tiles), k_steps_(k_steps), total_(tiles * k_steps), out_(out) {}

  void run(const std::vector<GemmTile>& tiles) {
    for (int64_t tile = 0; tile < tiles_; ++tile) {
      int64_t rows = std::min(t_.m, k_.m - tiles[static_cast<size_t>(tile)].row * t_.m);
      int chunks = static_cast<int>(std::min(t_.chunks, rows));
      // The previous tile's epilogue and store follow this tile's first loads. When the
      // epilogue frees the accumulator, the store of the last chunk (final only when that
      // tile's last mma ends) follows the loads of the second k-step instead, which wait for
      // that same mma, so that they are not queued behind it.
      bool defer = vector_epilogue(k_) && k_steps_ > 1;
      for (int64_t kk = 0; kk < k_steps_; ++kk) {
        k_step(tile, kk, kk + 1 == k_steps_ ? chunks : 1);
        int previous = tile > 0 ? chunks_[static_cast<size_t>(tile - 1)] : 0;
        if (tile > 0 && kk == 0 && defer) {
          for (int c = 0; c < previous; ++c) epilogue(tile - 1, c, previous);
          for (int c = 0; c + 1 < previous; ++c) store(tile - 1, c, previous);
        } else if (tile > 0 && kk == 0) {
          finish(tile - 1, 0, previous, previous);
        }
        if (tile > 0 && kk == 1 && defer) store(tile - 1, previous - 1, previous);
        if (kk == (defer && tile > 0 ? 1 : 0) && k_.accumulate) load_old(tile);
      }
      chunks_.push_back(chunks);
    }
    finish(tiles_ - 1, 0, chunks_.back(), chunks_.back());
  }

 private:
  void k_step(int64_t tile, int64_t kk, int chunks) {
    int64_t g = tile * k_steps_ + kk;
    int buffer = static_cast<int>(g % 2);
    bool reused_later = g + 2 < total_;
    auto load_a = [&] {
      operand(Op::LoadA, Op::PrepA, prepares_a(k_), kAFull, kAFree, kRawAFull, kRawAFree, tile, kk, buffer);
    };
    auto load_b = [&] {
      operand(Op::LoadB, Op::PrepB, prepares_b(k_), kBFull, kBFree, kRawBFull, kRawBFree, tile, kk, buffer);
    };
    if (b_first(k_, t_)) {
      load_b(), load_a();
    } else {
      load_a(), load_b();
    }
    for (int c = 0; c < chunks; ++c) {
      GemmStep s = step(Op::Mma, tile, kk, buffer);
      s.chunk = static_cast<int8_t>(c), s.chunks = static_cast<int8_t>(chunks);
      if (c == 0) {
        if (kk == 0 && tile > 0) s.wait(kAccFree);
        s.wait(kAFull + buffer), s.wait(kBFull + buffer);
      }
      if (c + 1 == chunks && reused_later) s.signal(kAFree + buffer), s.signal(kBFree + buffer);
      if (kk + 1 == k_steps_) s.signal(kAccReady);
      out_.push_back(s);
    }
  }

  // The load (and preparation) of one operand's k-slice.
  void operand(Op load_op, Op prep_op, bool prepared, int full, int free, int raw_full, int raw_free, int64_t tile,
               int64_t kk, int buffer) {
    int64_t g = tile * k_steps_ + kk;
    GemmStep load = step(load_op, tile, kk, buffer);
    if (!prepared) {
      if (g >= 2) load.wait(free + buffer);
      load.signal(full + buffer);
      out_.push_back(load);
      return;
    }
    if (g >= 2) load.wait(raw_free + buffer);
    load.signal(raw_full + buffer);
    out_.push_back(load);
    GemmStep prep = step(prep_op, tile, kk, buffer);
    prep.wait(raw_full + buffer);
    if (g >= 2) prep.wait(free + buffer);
    if (g + 2 < total_) prep.signal(raw_free + buffer);
    prep.signal(full + buffer);
    out_.push_back(prep);
  }

  void load_old(int64_t tile) {
    GemmStep s = step(Op::LoadOld, tile, 0, 0);
    if (tile > 0) s.wait(kOldFree);
    s.signal(kOldFull);
    out_.push_back(s);
  }

  // The epilogue (when the vector engine does one) and the store of chunks [first, end) of
  // `tile`'s `chunks`.
  void finish(int64_t tile, int first, int end, int chunks) {
    for (int c = first; c < end; ++c) {
      if (vector_epilogue(k_)) epilogue(tile, c, chunks);
      store(tile, c, chunks);
    }
  }

  void epilogue(int64_t tile, int c, int chunks) {
    bool last = c + 1 == chunks, next = tile + 1 < tiles_;
    GemmStep e = step(Op::Epilogue, tile, 0, 0);
    e.chunk = static_cast<int8_t>(c), e.chunks = static_cast<int8_t>(chunks);
    if (c == 0 && k_.accumulate) e.wait(kOldFull);
    e.wait(kAccReady);
    if (c == 0 && tile > 0) e.wait(kOutFree);
    e.signal(kOutReady);
    if (last && next) e.signal(kAccFree);
    if (last && next && k_.accumulate) e.signal(kOldFree);
    out_.push_back(e);
  }

  void store(int64_t tile, int c, int chunks) {
    bool vector = vector_epilogue(k_), last = c + 1 == chunks, next = tile + 1 < tiles_;
    GemmStep s = step(Op::Store, tile, 0, 0);
    s.chunk = static_cast<int8_t>(c), s.chunks = static_cast<int8_t>(chunks);
    s.wait(vector ? kOutReady : kAccReady);
    if (vector && last && next) s.signal(kOutFree);
    if (!vector && last && next) s.signal(kAccFree);
    out_.push_back(s);
  }

  const GemmKernel& k_;
  const GemmTiling& t_;
  int64_t tiles_, k_steps_, total_;
  std::vector<GemmStep>& out_;
  std::vector<int> chunks_;  // of each tile begun
};

const char* op_name(Op op) {
  switch (op) {
    case Op::LoadA: return "load a";
    case Op::LoadB: return "load b";
    case Op::PrepA: return "prepare a";
    case Op::PrepB: return "prepare b";
    case Op::Mma: return "mma";
    case Op::LoadOld: return "load old output";
    case Op::Epilogue: return "epilogue";
    case Op::Store: return "store";
  }
  return "?";
}

}  // namespace

std::string_view semaphore_name(int s) {
  static const char* const kNames[kGemmSemaphores] = {
      "a_full0",     "a_full1",     "b_full0",     "b_full1",     "a_free0",     "a_free1",   "b_free0",   "b_free1",
      "raw_a_full0", "raw_a_full1", "raw_a_free0", "raw_a_free1", "raw_b_full0", "raw_b_full1", "raw_b_free0",
      "raw_b_free1", "acc_ready",   "acc_free",    "out_ready",   "out_free",    "old_full",  "old_free"};
  return s >= 0 && s < kGemmSemaphores ? kNames[s] : "?";
}

isa::Engine GemmStep::engine() const {
  switch (op) {
    case Op::PrepA:
    case Op::PrepB:
    case Op::Epilogue: return isa::Engine::Vector;
    case Op::Mma: return isa::Engine::Matrix;
    default: return isa::Engine::Dma;
  }
}

bool b_first(const GemmKernel& kernel, const GemmTiling& tiling) {
  return tiling.k * tiling.n * static_cast<int64_t>(dtype_size(kernel.b_dtype)) <
         tiling.m * tiling.k * static_cast<int64_t>(dtype_size(kernel.a_dtype));
}

GemmSchedule schedule_gemm(const GemmKernel& kernel, const GemmTiling& tiling, const GemmPartition& partition) {
  GemmSchedule s;
  s.k_steps = (kernel.k + tiling.k - 1) / tiling.k / tiling.splits;  // per part
  s.cores.resize(partition.cores.size());
  for (size_t c = 0; c < partition.cores.size(); ++c) {
    const auto& tiles = partition.cores[c];
    CoreScheduler(kernel, tiling, static_cast<int64_t>(tiles.size()), s.k_steps, s.cores[c]).run(tiles);
  }
  return s;
}

std::string to_string(const GemmSchedule& schedule, const GemmPartition& partition) {
  if (schedule.cores.empty()) return "no work\n";
  size_t steps = 0;
  for (const auto& c : schedule.cores) steps += c.size();
  std::string s = fmt::format("{} k-steps per tile, {} steps on {} cores; core 0:\n", schedule.k_steps, steps,
                              schedule.cores.size());
  for (const GemmStep& st : schedule.cores[0]) {
    if (st.tile >= kPrintedTiles) {
      s += "  ...\n";
      break;
    }
    const GemmTile& t = partition.cores[0][static_cast<size_t>(st.tile)];
    std::string what = fmt::format("{} tile (b{} r{} c{})", op_name(st.op), t.batch, t.row, t.col);
    if (st.op != GemmStep::Op::LoadOld && st.op != GemmStep::Op::Epilogue && st.op != GemmStep::Op::Store)
      what += fmt::format(" k{} buffer {}", st.kk, st.buffer);
    if (st.chunks > 1) what += fmt::format(" rows {}/{}", st.chunk + 1, st.chunks);
    std::string sync;
    for (int i = 0; i < st.wait_count; ++i)
      sync += fmt::format(" wait {}", semaphore_name(st.waits[static_cast<size_t>(i)]));
    for (int i = 0; i < st.signal_count; ++i)
      sync += fmt::format(" signal {}", semaphore_name(st.signals[static_cast<size_t>(i)]));
    s += fmt::format("  {:<7}{:<48}{}\n", isa::engine_name(st.engine()), what, sync);
  }
  return s;
}

}  // namespace tessera::compiler
