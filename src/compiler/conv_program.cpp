// The implicit-GEMM convolution programs (see conv_program.h). Straight-line per core with
// absolute addresses; semaphores order each core's DMA, Vector and Matrix queues. The forward
// pass hands (image, block of positions) jobs to the cores in turn and keeps two col and two
// accumulator buffers, so that gathering block i + 1 overlaps the GEMM and store of block i.
// The backward pass hands whole images to the cores (dx[n] is accumulated in the scratchpad),
// then sums the cores' weight and bias gradients in a second phase after a barrier.
#include "compiler/conv_program.h"

#include <algorithm>

#include "base/error.h"
#include "compiler/emit.h"
#include "compiler/program_key.h"

namespace tessera::compiler {

using namespace emit;

namespace {

constexpr int64_t kSlack = 24 * kAlign;  // alignment of up to 24 buffers

// Blocks of positions that fit beside `fixed` bytes, each position costing `per_position`
// bytes plus its K i32 indices; the whole index table stays resident when that leaves room for
// blocks of min(P, 64) positions.
ConvTiling choose_tiling(const arch::ChipSpec& chip, const ConvGeometry& g, int64_t fixed, int64_t per_position,
                         int64_t cap, const char* pass) {
  int64_t P = g.positions(), idx = g.k() * 4, room = chip.scratchpad_bytes - fixed - kSlack;
  ConvTiling t;
  cap = std::min(cap, P);
  if (room - idx * P >= per_position * std::min<int64_t>(P, 64)) {
    t.resident = true;
    t.block = std::min(cap, (room - idx * P) / per_position);
    return t;
  }
  t.block = room > 0 ? std::min(cap, room / (per_position + idx)) : 0;
  if (t.block < 1)
    fail("conv2d {} on chip {}: an image of {} x {} x {} with weights ({}, {}) does not fit its {} bytes of "
         "scratchpad",
         pass, chip.name, g.channels, g.height, g.width, g.out_channels, g.k(), chip.scratchpad_bytes);
  return t;
}

enum ForwardSemaphore {
  kWeightsLoaded = 0, kWeightsReady = 1, kIndicesLoaded = 2, kIndicesFree = 3, kImageLoaded = 4, kImageFree = 5,
  kColReady = 6, kColFree = 8, kAccDone = 10, kOutReady = 12, kAccFree = 14  // the last five per buffer (+0, +1)
};

}  // namespace

std::vector<int32_t> im2col_indices(const ConvGeometry& g, int64_t block) {
  int64_t K = g.k(), P = g.positions();
  std::vector<int32_t> indices(static_cast<size_t>(K * P));
  for (int64_t p0 = 0; p0 < P; p0 += block) {
    int64_t pn = std::min(block, P - p0);
    int32_t* out = indices.data() + K * p0;  // (K, pn)
    for (int64_t k = 0; k < K; ++k) {
      int64_t c = k / (g.kernel_h * g.kernel_w), kh = k / g.kernel_w % g.kernel_h, kw = k % g.kernel_w;
      for (int64_t j = 0; j < pn; ++j) {
        int64_t oh = (p0 + j) / g.out_width, ow = (p0 + j) % g.out_width;
        int64_t ih = oh * g.stride - g.padding + kh, iw = ow * g.stride - g.padding + kw;
        bool inside = ih >= 0 && ih < g.height && iw >= 0 && iw < g.width;
        out[k * pn + j] = inside ? static_cast<int32_t>(1 + c * g.plane() + ih * g.width + iw) : 0;
      }
    }
  }
  return indices;
}

ConvTiling conv_forward_tiling(const arch::ChipSpec& chip, const ConvGeometry& g, DType dtype) {
  bool f32 = dtype == DType::F32;
  int64_t K = g.k(), O = g.out_channels, CHW = g.channels * g.plane();
  int64_t fixed = (1 + CHW) * 2 + (f32 ? CHW * 4 + O * K * 4 : 0) + O * K * 2 + O * 4;
  int64_t per_position = 2 * K * 2 + 2 * O * 4 + (f32 ? 0 : 2 * O * 2);
  // Enough blocks per image to give every core a job, but blocks of at least 64 positions.
  int64_t wanted = ceil_div(chip.cores, g.batch);
  int64_t cap = std::min<int64_t>(std::max(ceil_div(g.positions(), wanted), int64_t{64}), 2048);
  return choose_tiling(chip, g, fixed, per_position, cap, "forward");
}

isa::Program conv_forward_program(const arch::ChipSpec& chip, const ConvForward& c, const ConvTiling& t) {
  const ConvGeometry& g = c.g;
  int64_t K = g.k(), P = g.positions(), O = g.out_channels, CHW = g.channels * g.plane();
  bool f32 = c.dtype == DType::F32;
  auto es = static_cast<int64_t>(dtype_size(c.dtype));
  int64_t blocks = ceil_div(P, t.block), jobs = g.batch * blocks;

  Arena a;
  int64_t table = a.take((1 + CHW) * 2), xstage = f32 ? a.take(CHW * 4) : 0;
  int64_t w = a.take(O * K * 2), wstage = f32 ? a.take(O * K * 4) : 0, bias = a.take(O * 4);
  int64_t idx = a.take(K * (t.resident ? P : t.block) * 4);
  int64_t col[2], acc[2], out[2];
  for (int i = 0; i < 2; ++i) col[i] = a.take(K * t.block * 2), acc[i] = a.take(O * t.block * 4);
  for (int i = 0; i < 2; ++i) out[i] = f32 ? acc[i] : a.take(O * t.block * 2);
  TS_ASSERT(a.next <= chip.scratchpad_bytes);

  int64_t cores = std::min(chip.cores, jobs);
  isa::Program program;
  program.cores.resize(static_cast<size_t>(cores));
  for (int64_t core = 0; core < cores; ++core) {
    std::vector<Instruction>& s = program.cores[static_cast<size_t>(core)];
    // The weights once per core, as bf16 (O, K); the zero element before the image.
    s.push_back(dma_bytes(spm(f32 ? wstage : w), hbm(c.weight), O * K * es));
    if (c.bias >= 0) s.push_back(dma_bytes(spm(bias), hbm(c.bias), O * 4));
    if (t.resident) s.push_back(dma_bytes(spm(idx), hbm(c.indices), K * P * 4));
    s.push_back(signal(Engine::Dma, kWeightsLoaded));
    s.push_back(wait(Engine::Vector, kWeightsLoaded));
    if (f32) s.push_back(vconvert(spm(w), DType::BF16, spm(wstage), DType::F32, O, K));
    s.push_back(vfill(spm(table), 0.0f, 1, 1, DType::BF16));
    s.push_back(signal(Engine::Vector, kWeightsReady));
    s.push_back(wait(Engine::Matrix, kWeightsReady));

    std::vector<int64_t> mine;
    for (int64_t j = core; j < jobs; j += cores) mine.push_back(j);
    auto image = [&](size_t i) { return mine[i] / blocks; };
    auto front = [&](size_t i) {
      int64_t n = image(i), p0 = mine[i] % blocks * t.block, pn = std::min(t.block, P - p0);
      int buf = static_cast<int>(i % 2);
      bool later_image = image(mine.size() - 1) != n;  // another image will be loaded after this one
      if (i == 0 || image(i - 1) != n) {
        if (i > 0) s.push_back(wait(Engine::Dma, kImageFree));
        s.push_back(dma_bytes(spm(f32 ? xstage : table + 2), hbm(c.x + n * CHW * es), CHW * es));
        s.push_back(signal(Engine::Dma, kImageLoaded));
        s.push_back(wait(Engine::Vector, kImageLoaded));
        if (f32) {
          s.push_back(vconvert(spm(table + 2), DType::BF16, spm(xstage), DType::F32, 1, CHW));
          if (later_image) s.push_back(signal(Engine::Vector, kImageFree));
        }
      }
      if (!t.resident) {
        if (i > 0) s.push_back(wait(Engine::Dma, kIndicesFree));
        s.push_back(dma_bytes(spm(idx), hbm(c.indices + K * p0 * 4), K * pn * 4));
        s.push_back(signal(Engine::Dma, kIndicesLoaded));
        s.push_back(wait(Engine::Vector, kIndicesLoaded));
      }
      if (i >= 2) s.push_back(wait(Engine::Vector, kColFree + buf));
      s.push_back(vgather(spm(col[buf]), spm(table), spm(t.resident ? idx + K * p0 * 4 : idx), K * pn, 1, 1 + CHW,
                          DType::BF16));
      bool last = i + 1 == mine.size();
      if (!t.resident && !last) s.push_back(signal(Engine::Vector, kIndicesFree));
      if (!f32 && later_image && image(i + 1) != n) s.push_back(signal(Engine::Vector, kImageFree));
      s.push_back(signal(Engine::Vector, kColReady + buf));
      s.push_back(wait(Engine::Matrix, kColReady + buf));
      if (i >= 2) s.push_back(wait(Engine::Matrix, kAccFree + buf));
      s.push_back(mma(spm(acc[buf]), spm(w), spm(col[buf]), O, pn, K, false));
      if (i + 2 < mine.size()) s.push_back(signal(Engine::Matrix, kColFree + buf));
      s.push_back(signal(Engine::Matrix, kAccDone + buf));
    };
    auto back = [&](size_t i) {
      int64_t n = image(i), p0 = mine[i] % blocks * t.block, pn = std::min(t.block, P - p0);
      int buf = static_cast<int>(i % 2);
      s.push_back(wait(Engine::Vector, kAccDone + buf));
      if (c.bias >= 0)
        s.push_back(vbinary(isa::BinaryFn::Add, spm(acc[buf]), spm(acc[buf]), spm(bias), O, pn, isa::Broadcast::Col));
      if (!f32) s.push_back(vconvert(spm(out[buf]), DType::BF16, spm(acc[buf]), DType::F32, O, pn));
      s.push_back(signal(Engine::Vector, kOutReady + buf));
      s.push_back(wait(Engine::Dma, kOutReady + buf));
      s.push_back(dma(hbm(c.y + (n * O * P + p0) * es), spm(out[buf]), O, pn * es, P * es, pn * es));
      if (i + 2 < mine.size()) s.push_back(signal(Engine::Dma, kAccFree + buf));
    };
    front(0);
    for (size_t i = 0; i < mine.size(); ++i) {
      if (i + 1 < mine.size()) front(i + 1);
      back(i);
    }
  }
  return program;
}

namespace {

enum BackwardSemaphore {
  kWLoaded = 0, kWReady = 1, kIdxLoaded = 2, kIdxFree = 3, kXLoaded = 4, kXFree = 5, kDyLoaded = 6, kDyFree = 7,
  kReady = 8, kMatrixFree = 9, kDcolDone = 10, kDxReady = 11, kDxFree = 12, kDwDone = 13, kDbDone = 14,
  kRowsLoaded = 20, kRowsFree = 21, kSumDone = 22, kSumFree = 23
};

// Phase two: out (L, `dtype`) = sum over the R rows of grads (R, L) f32, in row order; column
// chunks go to the cores in turn.
isa::Program sum_rows_program(const arch::ChipSpec& chip, int64_t grads, int64_t sums, int64_t R, int64_t L,
                              DType dtype) {
  auto es = static_cast<int64_t>(dtype_size(dtype));
  int64_t chunk = std::min(ceil_div(L, chip.cores), (chip.scratchpad_bytes - 4 * kAlign) / (2 * R * 4 + 4 + es));
  TS_ASSERT(chunk >= 1);
  int64_t chunks = ceil_div(L, chunk), cores = std::min(chip.cores, chunks);
  Arena a;
  int64_t rows = a.take(R * chunk * 4), transposed = a.take(R * chunk * 4), sum = a.take(chunk * 4);
  int64_t sum16 = dtype == DType::F32 ? sum : a.take(chunk * es);
  isa::Program program;
  program.cores.resize(static_cast<size_t>(cores));
  for (int64_t core = 0; core < cores; ++core) {
    std::vector<Instruction>& s = program.cores[static_cast<size_t>(core)];
    for (int64_t ch = core; ch < chunks; ch += cores) {
      int64_t c0 = ch * chunk, cn = std::min(chunk, L - c0);
      bool first = ch == core, last = ch + cores >= chunks;
      if (!first) s.push_back(wait(Engine::Dma, kRowsFree));
      s.push_back(dma(spm(rows), hbm(grads + c0 * 4), R, cn * 4, cn * 4, L * 4));
      s.push_back(signal(Engine::Dma, kRowsLoaded));
      s.push_back(wait(Engine::Vector, kRowsLoaded));
      s.push_back(vtranspose(spm(transposed), spm(rows), R, cn, DType::F32));
      if (!last) s.push_back(signal(Engine::Vector, kRowsFree));
      if (!first) s.push_back(wait(Engine::Vector, kSumFree));
      s.push_back(vreduce(isa::ReduceFn::Sum, spm(sum), spm(transposed), cn, R));
      if (dtype != DType::F32) s.push_back(vconvert(spm(sum16), dtype, spm(sum), DType::F32, 1, cn));
      s.push_back(signal(Engine::Vector, kSumDone));
      s.push_back(wait(Engine::Dma, kSumDone));
      s.push_back(dma_bytes(hbm(sums + c0 * es), spm(sum16), cn * es));
      if (!last) s.push_back(signal(Engine::Dma, kSumFree));
    }
  }
  return program;
}

}  // namespace

ConvTiling conv_backward_tiling(const arch::ChipSpec& chip, const ConvGeometry& g, DType dtype) {
  bool f32 = dtype == DType::F32;
  int64_t K = g.k(), O = g.out_channels, CHW = g.channels * g.plane();
  int64_t fixed = (1 + CHW) * 2 + (f32 ? CHW * 4 + O * K * 4 : CHW * 2) + 2 * O * K * 2 + (1 + CHW) * 4 +
                  O * K * 4 + 2 * O * 4;
  int64_t per_position = 2 * K * 2 + O * 4 + O * 2 + (f32 ? 0 : O * 2) + K * 4;
  return choose_tiling(chip, g, fixed, per_position, 1024, "backward");
}

int64_t conv_backward_cores(const arch::ChipSpec& chip, const ConvGeometry& g) {
  return std::min(chip.cores, g.batch);
}

isa::Program conv_backward_program(const arch::ChipSpec& chip, const ConvBackward& c, const ConvTiling& t) {
  const ConvGeometry& g = c.g;
  int64_t K = g.k(), P = g.positions(), O = g.out_channels, CHW = g.channels * g.plane(), L = O * K + O;
  bool f32 = c.dtype == DType::F32;
  auto es = static_cast<int64_t>(dtype_size(c.dtype));
  int64_t blocks = ceil_div(P, t.block), cores = conv_backward_cores(chip, g);

  Arena a;
  int64_t table = a.take((1 + CHW) * 2), xstage = f32 ? a.take(CHW * 4) : 0, wstage = f32 ? a.take(O * K * 4) : 0;
  int64_t w = a.take(O * K * 2), wt = a.take(K * O * 2), dxt = a.take((1 + CHW) * 4);
  int64_t dx16 = f32 ? 0 : a.take(CHW * 2), dw = a.take(O * K * 4), db = a.take(O * 4), dbt = a.take(O * 4);
  int64_t idx = a.take(K * (t.resident ? P : t.block) * 4);
  int64_t col = a.take(K * t.block * 2), colt = a.take(K * t.block * 2), dyf = a.take(O * t.block * 4);
  int64_t dy16 = a.take(O * t.block * 2), dystage = f32 ? 0 : a.take(O * t.block * 2), dcol = a.take(K * t.block * 4);
  TS_ASSERT(a.next <= chip.scratchpad_bytes);

  isa::Program grads;
  grads.cores.resize(static_cast<size_t>(cores));
  for (int64_t core = 0; core < cores; ++core) {
    std::vector<Instruction>& s = grads.cores[static_cast<size_t>(core)];
    // W as bf16 (O, K) and W^T (K, O); the zero element; zeroed partial sums.
    s.push_back(dma_bytes(spm(f32 ? wstage : w), hbm(c.weight), O * K * es));
    if (t.resident) s.push_back(dma_bytes(spm(idx), hbm(c.indices), K * P * 4));
    s.push_back(signal(Engine::Dma, kWLoaded));
    s.push_back(wait(Engine::Vector, kWLoaded));
    if (f32) s.push_back(vconvert(spm(w), DType::BF16, spm(wstage), DType::F32, O, K));
    s.push_back(vtranspose(spm(wt), spm(w), O, K, DType::BF16));
    s.push_back(vfill(spm(table), 0.0f, 1, 1, DType::BF16));
    s.push_back(vfill(spm(dw), 0.0f, O, K, DType::F32));
    s.push_back(vfill(spm(db), 0.0f, O, 1, DType::F32));
    s.push_back(signal(Engine::Vector, kWReady));
    s.push_back(wait(Engine::Matrix, kWReady));

    int64_t images = ceil_div(g.batch - core, cores), units = images * blocks, u = 0;
    for (int64_t i = 0; i < images; ++i) {
      int64_t n = core + i * cores;
      bool more_images = i + 1 < images;
      if (i > 0) s.push_back(wait(Engine::Dma, kXFree));
      s.push_back(dma_bytes(spm(f32 ? xstage : table + 2), hbm(c.x + n * CHW * es), CHW * es));
      s.push_back(signal(Engine::Dma, kXLoaded));
      s.push_back(wait(Engine::Vector, kXLoaded));
      if (f32) s.push_back(vconvert(spm(table + 2), DType::BF16, spm(xstage), DType::F32, 1, CHW));
      if (i > 0) s.push_back(wait(Engine::Vector, kDxFree));
      s.push_back(vfill(spm(dxt), 0.0f, 1, 1 + CHW, DType::F32));
      for (int64_t b = 0; b < blocks; ++b, ++u) {
        int64_t p0 = b * t.block, pn = std::min(t.block, P - p0);
        bool more_units = u + 1 < units;
        if (!t.resident) {
          if (u > 0) s.push_back(wait(Engine::Dma, kIdxFree));
          s.push_back(dma_bytes(spm(idx), hbm(c.indices + K * p0 * 4), K * pn * 4));
          s.push_back(signal(Engine::Dma, kIdxLoaded));
          s.push_back(wait(Engine::Vector, kIdxLoaded));
        }
        if (u > 0) s.push_back(wait(Engine::Dma, kDyFree));
        s.push_back(dma(spm(f32 ? dyf : dystage), hbm(c.dy + (n * O * P + p0) * es), O, pn * es, pn * es, P * es));
        s.push_back(signal(Engine::Dma, kDyLoaded));
        // col (K, pn) and col^T; dy as f32 (for dbias) and bf16 (for the GEMMs).
        int64_t tile = t.resident ? idx + K * p0 * 4 : idx;
        if (u > 0) s.push_back(wait(Engine::Vector, kMatrixFree));
        s.push_back(vgather(spm(col), spm(table), spm(tile), K * pn, 1, 1 + CHW, DType::BF16));
        s.push_back(vtranspose(spm(colt), spm(col), K, pn, DType::BF16));
        s.push_back(wait(Engine::Vector, kDyLoaded));
        if (!f32) s.push_back(vconvert(spm(dyf), DType::F32, spm(dystage), DType::BF16, O, pn));
        s.push_back(vconvert(spm(dy16), DType::BF16, spm(dyf), DType::F32, O, pn));
        s.push_back(vreduce(isa::ReduceFn::Sum, spm(dbt), spm(dyf), O, pn));
        s.push_back(vbinary(isa::BinaryFn::Add, spm(db), spm(db), spm(dbt), O, 1));
        if (more_units) s.push_back(signal(Engine::Vector, kDyFree));
        s.push_back(signal(Engine::Vector, kReady));
        // dW (O, K) += dy (O, pn) @ col^T (pn, K); dcol (K, pn) = W^T (K, O) @ dy (O, pn).
        s.push_back(wait(Engine::Matrix, kReady));
        s.push_back(mma(spm(dw), spm(dy16), spm(colt), O, K, pn, true));
        s.push_back(mma(spm(dcol), spm(wt), spm(dy16), K, pn, O, false));
        if (more_units) s.push_back(signal(Engine::Matrix, kMatrixFree));
        s.push_back(signal(Engine::Matrix, kDcolDone));
        // col2im: dcol's rows back onto the image's positions (padding onto the spare element).
        s.push_back(wait(Engine::Vector, kDcolDone));
        s.push_back(vscatter_add(spm(dxt), spm(tile), spm(dcol), K * pn, 1, 1 + CHW, DType::F32));
        if (!t.resident && more_units) s.push_back(signal(Engine::Vector, kIdxFree));
      }
      if (more_images) s.push_back(signal(Engine::Vector, kXFree));
      if (!f32) s.push_back(vconvert(spm(dx16), DType::BF16, spm(dxt + 4), DType::F32, 1, CHW));
      s.push_back(signal(Engine::Vector, kDxReady));
      s.push_back(wait(Engine::Dma, kDxReady));
      s.push_back(dma_bytes(hbm(c.dx + n * CHW * es), spm(f32 ? dxt + 4 : dx16), CHW * es));
      if (more_images) s.push_back(signal(Engine::Dma, kDxFree));
    }
    // This core's partial sums: row core + 1 of grads.
    s.push_back(signal(Engine::Matrix, kDwDone));
    s.push_back(signal(Engine::Vector, kDbDone));
    s.push_back(wait(Engine::Dma, kDwDone));
    s.push_back(wait(Engine::Dma, kDbDone));
    s.push_back(dma_bytes(hbm(c.grads + (core + 1) * L * 4), spm(dw), O * K * 4));
    s.push_back(dma_bytes(hbm(c.grads + ((core + 1) * L + O * K) * 4), spm(db), O * 4));
  }
  return sequence({grads, sum_rows_program(chip, c.grads, c.sums, cores + 1, L, c.dtype)});
}

namespace {

void write_geometry(ProgramKey& k, const ConvGeometry& g) {
  static_assert(field_count<ConvGeometry>() == 11, "ConvGeometry changed: name every field in write_geometry");
  k << g.batch << g.channels << g.height << g.width << g.out_channels << g.kernel_h << g.kernel_w << g.out_height
    << g.out_width << g.stride << g.padding;
}

void write_tiling(ProgramKey& k, const ConvTiling& t) {
  static_assert(field_count<ConvTiling>() == 2, "ConvTiling changed: name every field in write_tiling");
  k << t.block << t.resident;
}

}  // namespace

std::string conv_forward_key(const ConvForward& c, const ConvTiling& t) {
  static_assert(field_count<ConvForward>() == 7, "ConvForward changed: name every field in conv_forward_key");
  ProgramKey k;
  write_geometry(k, c.g);
  write_tiling(k, t);
  k << c.dtype << c.x << c.weight << c.indices << c.y << c.bias;
  return k.take();
}

std::string conv_backward_key(const ConvBackward& c, const ConvTiling& t) {
  static_assert(field_count<ConvBackward>() == 9, "ConvBackward changed: name every field in conv_backward_key");
  ProgramKey k;
  write_geometry(k, c.g);
  write_tiling(k, t);
  k << c.dtype << c.x << c.weight << c.dy << c.indices << c.dx << c.grads << c.sums;
  return k.take();
}

}  // namespace tessera::compiler
