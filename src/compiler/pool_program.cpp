// The max-pooling programs (see pool_program.h): blocks of planes go to the cores in turn; each
// core loads a block, computes it and stores it, its DMA and Vector queues ordered by semaphores.
#include "compiler/pool_program.h"

#include <algorithm>
#include <cmath>

#include "base/error.h"
#include "compiler/emit.h"
#include "compiler/program_key.h"

namespace tessera::compiler {

using namespace emit;

namespace {

enum Semaphore { kLoaded = 0, kInputFree = 1, kDone = 2, kStored = 3 };

// Planes per block: what fits beside `fixed` bytes, and few enough to give every core a block.
int64_t planes_per_block(const arch::ChipSpec& chip, int64_t planes, int64_t fixed, int64_t per_plane,
                         const char* pass, const PoolGeometry& g) {
  int64_t fit = (chip.scratchpad_bytes - fixed - 16 * kAlign) / per_plane;
  if (fit < 1)
    fail("max_pool2d {} on chip {}: a plane of {} x {} does not fit its {} bytes of scratchpad", pass, chip.name,
         g.height, g.width, chip.scratchpad_bytes);
  return std::min({fit, ceil_div(planes, chip.cores), int64_t{1024}});
}

}  // namespace

std::vector<int32_t> pool_window_positions(const PoolGeometry& g) {
  int64_t P = g.positions();
  std::vector<int32_t> positions(static_cast<size_t>(g.kernel * g.kernel * P));
  for (int64_t kh = 0; kh < g.kernel; ++kh)
    for (int64_t kw = 0; kw < g.kernel; ++kw)
      for (int64_t p = 0; p < P; ++p) {
        int64_t oh = p / g.out_width, ow = p % g.out_width;
        positions[(kh * g.kernel + kw) * P + p] =
            static_cast<int32_t>((oh * g.stride + kh) * g.width + ow * g.stride + kw);
      }
  return positions;
}

isa::Program max_pool_program(const arch::ChipSpec& chip, const PoolForward& p) {
  const PoolGeometry& g = p.g;
  int64_t HW = g.plane(), P = g.positions(), KK = g.kernel * g.kernel;
  bool f32 = p.dtype == DType::F32;
  auto es = static_cast<int64_t>(dtype_size(p.dtype));
  int64_t fixed = KK * P * 8 + 2 * kAlign;
  int64_t per_plane = HW * 4 * 2 + (f32 ? 0 : HW * 2 + P * 2) + P * 4 * 6 + P * 8;
  int64_t qb = planes_per_block(chip, g.planes, fixed, per_plane, "forward", g);
  Arena a;
  int64_t pos = a.take(KK * P * 4), posf = a.take(KK * P * 4), big = a.take(4), one = a.take(4);
  int64_t xs = a.take(qb * HW * 4), x16 = f32 ? xs : a.take(qb * HW * 2), xt = a.take(qb * HW * 4);
  int64_t best = a.take(qb * P * 4), v = a.take(qb * P * 4), arg = a.take(qb * P * 4), d = a.take(qb * P * 4);
  int64_t yt = a.take(qb * P * 4), argt = a.take(qb * P * 4), y16 = f32 ? yt : a.take(qb * P * 2);
  int64_t arg64 = a.take(qb * P * 8);
  TS_ASSERT(a.next <= chip.scratchpad_bytes);

  int64_t blocks = ceil_div(g.planes, qb), cores = std::min(chip.cores, blocks);
  isa::Program program;
  program.cores.resize(static_cast<size_t>(cores));
  using F = isa::BinaryFn;
  for (int64_t core = 0; core < cores; ++core) {
    std::vector<Instruction>& s = program.cores[static_cast<size_t>(core)];
    s.push_back(dma_bytes(spm(pos), hbm(p.positions), KK * P * 4));
    s.push_back(dma_bytes(spm(posf), hbm(p.positions_f32), KK * P * 4));
    s.push_back(vfill(spm(big), std::ldexp(1.0f, 100), 1, 1, DType::F32));
    s.push_back(vfill(spm(one), 1.0f, 1, 1, DType::F32));
    for (int64_t b = core; b < blocks; b += cores) {
      int64_t q0 = b * qb, qn = std::min(qb, g.planes - q0);
      bool first = b == core, last = b + cores >= blocks;
      if (!first) s.push_back(wait(Engine::Dma, kInputFree));
      s.push_back(dma_bytes(spm(x16), hbm(p.x + q0 * HW * es), qn * HW * es));
      s.push_back(signal(Engine::Dma, kLoaded));
      s.push_back(wait(Engine::Vector, kLoaded));
      if (!f32) s.push_back(vconvert(spm(xs), DType::F32, spm(x16), DType::BF16, qn, HW));
      s.push_back(vtranspose(spm(xt), spm(xs), qn, HW, DType::F32));  // (HW, qn)
      if (!last) s.push_back(signal(Engine::Vector, kInputFree));
      // best (P, qn) = max over the window offsets.
      s.push_back(vgather(spm(best), spm(xt), spm(pos), P, qn, HW, DType::F32));
      for (int64_t j = 1; j < KK; ++j) {
        s.push_back(vgather(spm(v), spm(xt), spm(pos + j * P * 4), P, qn, HW, DType::F32));
        s.push_back(vbinary(F::Max, spm(best), spm(best), spm(v), P, qn));
      }
      // arg (P, qn): the position of the first offset that reaches the max.
      s.push_back(vfill(spm(arg), 0.0f, P, qn, DType::F32));
      for (int64_t j = KK - 1; j >= 0; --j) {
        s.push_back(vgather(spm(v), spm(xt), spm(pos + j * P * 4), P, qn, HW, DType::F32));
        s.push_back(vbinary(F::Sub, spm(v), spm(v), spm(best), P, qn));
        s.push_back(vbinary(F::Mul, spm(v), spm(v), spm(big), P, qn, isa::Broadcast::Scalar));
        s.push_back(vbinary(F::Mul, spm(v), spm(v), spm(big), P, qn, isa::Broadcast::Scalar));
        s.push_back(vbinary(F::Add, spm(v), spm(v), spm(one), P, qn, isa::Broadcast::Scalar));
        s.push_back(vunary(isa::UnaryFn::Relu, spm(v), spm(v), P, qn));  // 1 at the max, else 0
        s.push_back(vbinary(F::Sub, spm(d), spm(arg), spm(posf + j * P * 4), P, qn, isa::Broadcast::Col));
        s.push_back(vbinary(F::Mul, spm(d), spm(d), spm(v), P, qn));
        s.push_back(vbinary(F::Sub, spm(arg), spm(arg), spm(d), P, qn));  // position_j where at the max
      }
      // Back to (qn, P): y in its dtype, the arg-max as I64.
      if (!first) s.push_back(wait(Engine::Vector, kStored));
      s.push_back(vtranspose(spm(yt), spm(best), P, qn, DType::F32));
      if (!f32) s.push_back(vconvert(spm(y16), p.dtype, spm(yt), DType::F32, qn, P));
      s.push_back(vtranspose(spm(argt), spm(arg), P, qn, DType::F32));
      s.push_back(vconvert(spm(arg64), DType::I64, spm(argt), DType::F32, qn, P));
      s.push_back(signal(Engine::Vector, kDone));
      s.push_back(wait(Engine::Dma, kDone));
      s.push_back(dma_bytes(hbm(p.y + q0 * P * es), spm(y16), qn * P * es));
      s.push_back(dma_bytes(hbm(p.indices + q0 * P * 8), spm(arg64), qn * P * 8));
      if (!last) s.push_back(signal(Engine::Dma, kStored));
    }
  }
  return program;
}

isa::Program max_pool_backward_program(const arch::ChipSpec& chip, const PoolBackward& p) {
  const PoolGeometry& g = p.g;
  int64_t HW = g.plane(), P = g.positions();
  bool f32 = p.dtype == DType::F32;
  auto es = static_cast<int64_t>(dtype_size(p.dtype));
  int64_t per_plane = P * 4 + P * 8 + P * 4 + HW * 4 + (f32 ? 0 : P * 2 + HW * 2);
  int64_t qb = planes_per_block(chip, g.planes, 0, per_plane, "backward", g);
  Arena a;
  int64_t dyf = a.take(qb * P * 4), dy16 = f32 ? dyf : a.take(qb * P * 2);
  int64_t idx64 = a.take(qb * P * 8), idx = a.take(qb * P * 4);
  int64_t dxf = a.take(qb * HW * 4), dx16 = f32 ? dxf : a.take(qb * HW * 2);
  TS_ASSERT(a.next <= chip.scratchpad_bytes);

  int64_t blocks = ceil_div(g.planes, qb), cores = std::min(chip.cores, blocks);
  isa::Program program;
  program.cores.resize(static_cast<size_t>(cores));
  for (int64_t core = 0; core < cores; ++core) {
    std::vector<Instruction>& s = program.cores[static_cast<size_t>(core)];
    for (int64_t b = core; b < blocks; b += cores) {
      int64_t q0 = b * qb, qn = std::min(qb, g.planes - q0);
      bool first = b == core, last = b + cores >= blocks;
      if (!first) s.push_back(wait(Engine::Dma, kInputFree));
      s.push_back(dma_bytes(spm(dy16), hbm(p.dy + q0 * P * es), qn * P * es));
      s.push_back(dma_bytes(spm(idx64), hbm(p.indices + q0 * P * 8), qn * P * 8));
      s.push_back(signal(Engine::Dma, kLoaded));
      s.push_back(wait(Engine::Vector, kLoaded));
      if (!f32) s.push_back(vconvert(spm(dyf), DType::F32, spm(dy16), p.dtype, qn, P));
      s.push_back(vconvert(spm(idx), DType::I32, spm(idx64), DType::I64, qn, P));
      if (!first) s.push_back(wait(Engine::Vector, kStored));
      s.push_back(vfill(spm(dxf), 0.0f, qn, HW, DType::F32));
      for (int64_t q = 0; q < qn; ++q)
        s.push_back(vscatter_add(spm(dxf + q * HW * 4), spm(idx + q * P * 4), spm(dyf + q * P * 4), P, 1, HW,
                                 DType::F32));
      if (!last) s.push_back(signal(Engine::Vector, kInputFree));
      if (!f32) s.push_back(vconvert(spm(dx16), p.dtype, spm(dxf), DType::F32, qn, HW));
      s.push_back(signal(Engine::Vector, kDone));
      s.push_back(wait(Engine::Dma, kDone));
      s.push_back(dma_bytes(hbm(p.dx + q0 * HW * es), spm(dx16), qn * HW * es));
      if (!last) s.push_back(signal(Engine::Dma, kStored));
    }
  }
  return program;
}

namespace {

void write_geometry(ProgramKey& k, const PoolGeometry& g) {
  static_assert(field_count<PoolGeometry>() == 7, "PoolGeometry changed: name every field in write_geometry");
  k << g.planes << g.height << g.width << g.kernel << g.stride << g.out_height << g.out_width;
}

}  // namespace

std::string max_pool_key(const PoolForward& p) {
  static_assert(field_count<PoolForward>() == 7, "PoolForward changed: name every field in max_pool_key");
  ProgramKey k;
  write_geometry(k, p.g);
  k << p.dtype << p.x << p.positions << p.positions_f32 << p.y << p.indices;
  return k.take();
}

std::string max_pool_backward_key(const PoolBackward& p) {
  static_assert(field_count<PoolBackward>() == 5, "PoolBackward changed: name every field in max_pool_backward_key");
  ProgramKey k;
  write_geometry(k, p.g);
  k << p.dtype << p.dy << p.indices << p.dx;
  return k.take();
}

}  // namespace tessera::compiler
