// The compensated sum of squares (see sum_squares_program.h).
//
// Error bound. Every element x is split exactly (Veltkamp, factor 2^12 + 1) into xh + xl of 12
// and 11 significant bits, so that p = fl(x * x) and e = ((xh*xh - p) + 2*xh*xl) + xl*xl are
// computed without rounding (Dekker) and x^2 = p + e exactly. Each lane of a core keeps a
// double-f32 accumulator (hi, lo) and adds (p, e) to it with the double-word addition of
// Joldes, Muller and Popescu (TwoSum of the high parts, the low parts added in f32, Fast2Sum
// back to (hi, lo)); all terms are nonnegative, for which each addition has a relative error
// of at most 3u^2 (u = 2^-24). The lanes of a core, then the cores, are combined in trees by
// the same addition. The result's relative error is therefore at most 3u^2 times the longest
// chain of additions (tiles per core + log2(lanes) + log2(cores)): below 1e-12 for 10^9
// elements, whereas a plain f32 sum would be off by up to n * u. Outside this bound: elements
// with |x| > 1.8e19 (x^2 overflows f32, as it does in any f32 kernel) and elements below about
// 2^-50, whose split products underflow and may lose up to 2^-149 each.
#include "compiler/sum_squares_program.h"

#include <algorithm>
#include <bit>
#include <vector>

#include "base/error.h"
#include "compiler/instructions.h"
#include "compiler/program_key.h"

namespace tessera::compiler {

namespace {

using namespace emit;
using isa::BinaryFn;
using isa::Engine;
using isa::Instruction;

constexpr int64_t kMaxLanes = 8192;   // elements per tile
enum Semaphore { kLoaded = 0, kFree = 1, kDone = 2, kGathered = 3, kFinal = 4 };

int64_t pow2_ceil(int64_t v) {
  return static_cast<int64_t>(std::bit_ceil(static_cast<uint64_t>(std::max<int64_t>(v, 1))));
}

// Scratchpad addresses for tiles of `lanes` elements of at most `element_bytes` each; `widen`:
// some tile is of a narrower float, converted into an f32 tile.
struct Layout {
  int64_t split = 0;           // the constant 2^12 + 1
  int64_t raw[2] = {0, 0};     // the loaded tiles, double-buffered
  int64_t x = 0;               // the f32 tile of a narrower float (an f32 tile is its raw buffer)
  int64_t p = 0, a = 0, b = 0, hi = 0, lo = 0;
  int64_t bytes = 0;
};

Layout layout_for(int64_t lanes, int64_t element_bytes, bool widen) {
  Layout l;
  Arena a;
  l.split = a.take(4);
  for (int64_t& raw : l.raw) raw = a.take(lanes * element_bytes);
  l.x = widen ? a.take(lanes * 4) : -1;
  for (int64_t* t : {&l.p, &l.a, &l.b, &l.hi, &l.lo}) *t = a.take(lanes * 4);
  l.bytes = a.next;
  return l;
}

// A tile to load: `count` (<= lanes) elements of `dtype` at addr.
struct Tile {
  int64_t addr = 0;
  DType dtype = DType::F32;
  int64_t count = 0;
};

// The segments cut into tiles of `lanes` elements, in segment order.
std::vector<Tile> tiles_of(std::span<const SumSquaresSegment> segments, int64_t lanes) {
  std::vector<Tile> tiles;
  for (const SumSquaresSegment& seg : segments)
    for (int64_t off = 0; off < seg.n; off += lanes)
      tiles.push_back({seg.addr + off * static_cast<int64_t>(dtype_size(seg.dtype)), seg.dtype,
                       std::min(lanes, seg.n - off)});
  return tiles;
}

// (hi0, lo0) += (hi1, lo1) on `len` lanes, double-word addition; hi1 is overwritten, a and b are
// temporaries.
void add_double_word(std::vector<Instruction>& s, int64_t hi0, int64_t lo0, int64_t hi1, int64_t lo1, int64_t a,
                     int64_t b, int64_t len) {
  s.push_back(vbinary(BinaryFn::Add, a, hi0, hi1, 1, len));  // s = hi0 + hi1
  s.push_back(vbinary(BinaryFn::Sub, b, a, hi0, 1, len));    // bb = s - hi0
  s.push_back(vbinary(BinaryFn::Sub, hi1, hi1, b, 1, len));  // hi1 - bb
  s.push_back(vbinary(BinaryFn::Sub, b, a, b, 1, len));      // s - bb
  s.push_back(vbinary(BinaryFn::Sub, b, hi0, b, 1, len));    // hi0 - (s - bb)
  s.push_back(vbinary(BinaryFn::Add, b, b, hi1, 1, len));    // TwoSum's error
  s.push_back(vbinary(BinaryFn::Add, hi1, lo0, lo1, 1, len));
  s.push_back(vbinary(BinaryFn::Add, b, b, hi1, 1, len));    // error + lo0 + lo1
  s.push_back(vbinary(BinaryFn::Add, hi0, a, b, 1, len));    // Fast2Sum(s, b)
  s.push_back(vbinary(BinaryFn::Sub, hi1, hi0, a, 1, len));
  s.push_back(vbinary(BinaryFn::Sub, lo0, b, hi1, 1, len));
}

// Lanes [0, len) of (hi, lo) summed into lane 0, halving the range at each step.
void tree(std::vector<Instruction>& s, const Layout& l, int64_t len) {
  while (len > 1) {
    int64_t half = len / 2, upper = (len - half) * 4;
    add_double_word(s, l.hi, l.lo, l.hi + upper, l.lo + upper, l.a, l.b, half);
    len -= half;
  }
}

// (hi, lo) += x^2 on the first `len` lanes, x^2 split exactly into p + e; x is overwritten.
void add_squares(std::vector<Instruction>& s, const Layout& l, int64_t x, int64_t len) {
  s.push_back(vbinary(BinaryFn::Mul, l.p, x, x, 1, len));                                // p = fl(x^2)
  s.push_back(vbinary(BinaryFn::Mul, l.a, x, l.split, 1, len, isa::Broadcast::Scalar));  // c = 4097 x
  s.push_back(vbinary(BinaryFn::Sub, l.b, l.a, x, 1, len));
  s.push_back(vbinary(BinaryFn::Sub, l.a, l.a, l.b, 1, len));  // xh = c - (c - x)
  s.push_back(vbinary(BinaryFn::Sub, l.b, x, l.a, 1, len));    // xl = x - xh
  s.push_back(vbinary(BinaryFn::Mul, x, l.a, l.a, 1, len));
  s.push_back(vbinary(BinaryFn::Sub, x, x, l.p, 1, len));      // xh^2 - p
  s.push_back(vbinary(BinaryFn::Mul, l.a, l.a, l.b, 1, len));
  s.push_back(vbinary(BinaryFn::Add, l.a, l.a, l.a, 1, len));  // 2 xh xl
  s.push_back(vbinary(BinaryFn::Add, x, x, l.a, 1, len));
  s.push_back(vbinary(BinaryFn::Mul, l.b, l.b, l.b, 1, len));
  s.push_back(vbinary(BinaryFn::Add, x, x, l.b, 1, len));      // e = x^2 - p
  add_double_word(s, l.hi, l.lo, l.p, x, l.a, l.b, len);
}

}  // namespace

int64_t sum_squares_partials_bytes(const arch::ChipSpec& chip) { return chip.cores * 8; }

isa::Program sum_squares_program(const arch::ChipSpec& chip, std::span<const SumSquaresSegment> segments,
                                 int64_t partials_addr, int64_t out_addr) {
  int64_t n = 0, element_bytes = 1;
  bool widen = false;
  for (const SumSquaresSegment& seg : segments) {
    TS_ASSERT(seg.n >= 0 && is_floating(seg.dtype));
    if (seg.n == 0) continue;
    n += seg.n;
    element_bytes = std::max(element_bytes, static_cast<int64_t>(dtype_size(seg.dtype)));
    widen = widen || seg.dtype != DType::F32;
  }
  TS_ASSERT(n > 0);
  int64_t max_lanes = kMaxLanes;
  while (max_lanes > 1 && layout_for(max_lanes, element_bytes, widen).bytes > chip.scratchpad_bytes) max_lanes /= 2;
  // One tile per core where n allows; at least as many lanes as cores, for the last step.
  int64_t lanes = std::min(max_lanes, pow2_ceil(ceil_div(n, chip.cores)));
  std::vector<Tile> tiles = tiles_of(segments, lanes);
  int64_t cores = std::min<int64_t>(chip.cores, static_cast<int64_t>(tiles.size()));
  if (lanes < cores) {
    lanes = pow2_ceil(cores);
    tiles = tiles_of(segments, lanes);
    cores = std::min<int64_t>(chip.cores, static_cast<int64_t>(tiles.size()));
  }
  Layout l = layout_for(lanes, element_bytes, widen);
  if (l.bytes > chip.scratchpad_bytes)
    fail("chip {}: a sum of squares over {} lanes needs {} bytes of scratchpad, the chip has {}", chip.name, lanes,
         l.bytes, chip.scratchpad_bytes);

  isa::Program program;
  program.cores.resize(static_cast<size_t>(cores));
  for (int64_t core = 0; core < cores; ++core) {
    std::vector<Instruction>& s = program.cores[static_cast<size_t>(core)];
    s.push_back(vfill(l.split, 4097.0f, 1, 1));
    s.push_back(vfill(l.hi, 0.0f, 1, lanes));
    s.push_back(vfill(l.lo, 0.0f, 1, lanes));
    std::vector<Tile> mine;
    for (size_t t = static_cast<size_t>(core); t < tiles.size(); t += static_cast<size_t>(cores))
      mine.push_back(tiles[t]);
    auto load = [&](size_t i) {
      if (i >= 2) s.push_back(wait(Engine::Dma, kFree));
      int64_t bytes = mine[i].count * static_cast<int64_t>(dtype_size(mine[i].dtype));
      s.push_back(dma(spm(l.raw[i % 2]), hbm(mine[i].addr), 1, bytes, bytes, bytes));
      s.push_back(signal(Engine::Dma, kLoaded));
    };
    for (size_t i = 0; i < std::min<size_t>(2, mine.size()); ++i) load(i);
    for (size_t i = 0; i < mine.size(); ++i) {
      bool reload = i + 2 < mine.size(), f32 = mine[i].dtype == DType::F32;
      int64_t len = mine[i].count, x = l.raw[i % 2];
      s.push_back(wait(Engine::Vector, kLoaded));
      if (!f32) {
        s.push_back(vconvert(l.x, DType::F32, x, mine[i].dtype, 1, len));
        x = l.x;
        if (reload) s.push_back(signal(Engine::Vector, kFree));
      }
      add_squares(s, l, x, len);
      if (reload && f32) s.push_back(signal(Engine::Vector, kFree));
      if (reload) load(i + 2);
    }
    tree(s, l, lanes);
    s.push_back(signal(Engine::Vector, kDone));
    s.push_back(wait(Engine::Dma, kDone));
    s.push_back(dma(hbm(partials_addr + core * 8), spm(l.hi), 1, 4, 4, 4));
    s.push_back(dma(hbm(partials_addr + core * 8 + 4), spm(l.lo), 1, 4, 4, 4));
    s.push_back(barrier());
    if (core != 0) continue;
    // Core 0 adds up the cores' (hi, lo).
    s.push_back(dma(spm(l.hi), hbm(partials_addr), cores, 4, 4, 8));
    s.push_back(dma(spm(l.lo), hbm(partials_addr + 4), cores, 4, 4, 8));
    s.push_back(signal(Engine::Dma, kGathered));
    s.push_back(wait(Engine::Vector, kGathered));
    tree(s, l, cores);
    s.push_back(signal(Engine::Vector, kFinal));
    s.push_back(wait(Engine::Dma, kFinal));
    s.push_back(dma(hbm(out_addr), spm(l.hi), 1, 4, 4, 4));
    s.push_back(dma(hbm(out_addr + 4), spm(l.lo), 1, 4, 4, 4));
  }
  return program;
}

std::string sum_squares_key(std::span<const SumSquaresSegment> segments, int64_t partials_addr, int64_t out_addr) {
  using Builder = isa::Program (*)(const arch::ChipSpec&, std::span<const SumSquaresSegment>, int64_t, int64_t);
  static_assert(std::is_same_v<decltype(&sum_squares_program), Builder>,
                "sum_squares_program's parameters changed: name every one in sum_squares_key");
  static_assert(field_count<SumSquaresSegment>() == 3, "SumSquaresSegment changed: name every field in sum_squares_key");
  ProgramKey k;
  k << segments.size();
  for (const SumSquaresSegment& s : segments) k << s.addr << s.dtype << s.n;
  k << partials_addr << out_addr;
  return k.take();
}

}  // namespace tessera::compiler
