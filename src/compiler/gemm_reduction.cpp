// The k-split's workspace and reduction pass (see gemm_reduction.h).
#include "compiler/gemm_reduction.h"

#include <fmt/format.h>

#include "compiler/emit.h"
#include "compiler/gemm_emit.h"

namespace tessera::compiler {

namespace {

using namespace emit;

constexpr int64_t kPiecesPerCore = 4;  // at least, when the rows allow: loads overlap the adds
constexpr int64_t kElementGranule = 16;
constexpr size_t kPrintedPieces = 3;

int64_t size_of(DType d) { return static_cast<int64_t>(dtype_size(d)); }
int64_t slots(const GemmKernel& k, int64_t splits) { return splits + (k.accumulate ? 1 : 0); }
bool rounds(const GemmKernel& k) { return k.out_dtype != DType::F32; }  // the sum is rounded to a 16-bit dtype

Operand l2(int64_t offset) { return at(isa::Space::L2, offset); }
Operand out_at(int64_t offset) {
  Operand o = hbm(offset);
  o.addr.reg = static_cast<int8_t>(kArgOut);
  return o;
}

}  // namespace

GemmKernel partial_kernel(const GemmKernel& kernel) {
  GemmKernel k = kernel;
  k.out_dtype = DType::F32, k.accumulate = false, k.batch_stride_out = k.m * k.n;
  return k;
}

int64_t gemm_workspace_bytes(const GemmKernel& kernel, int64_t splits) {
  return splits * kernel.batch * kernel.m * kernel.n * 4;
}

bool splittable(const GemmKernel& kernel, int64_t splits, int64_t tile_k, const arch::ChipSpec& chip) {
  return splits >= 2 && ceil_div(kernel.k, tile_k) % splits == 0 && chip.l2_bytes > 0 && chip.l2_bytes_per_s > 0 &&
         gemm_workspace_bytes(kernel, splits) <= chip.l2_bytes;
}

int64_t partial_address(const GemmKernel& kernel, int64_t part, int64_t batch, int64_t row, int64_t col) {
  return (((part * kernel.batch + batch) * kernel.m + row) * kernel.n + col) * 4;
}

GemmReduction plan_gemm_reduction(const GemmKernel& kernel, int64_t splits, const arch::ChipSpec& chip) {
  GemmReduction r;
  r.splits = splits;
  const int64_t eo = size_of(kernel.out_dtype), n = kernel.n;
  int64_t per_element = slots(kernel, splits) * 4 + (rounds(kernel) ? eo : 0) +
                        (kernel.accumulate && rounds(kernel) ? eo : 0);
  r.piece_elements = (chip.scratchpad_bytes / 2 - 3 * kAlign) / per_element / kElementGranule * kElementGranule;
  if (r.piece_elements < std::min<int64_t>(n, kElementGranule))
    fail("{}: the reduction of {} parts needs {} bytes of scratchpad per element; chip {} has {}", to_string(kernel),
         splits, 2 * per_element, chip.name, chip.scratchpad_bytes);
  for (size_t b = 0; b < 2; ++b) {
    auto place = [&](int64_t bytes) {
      int64_t offset = r.bytes;
      r.bytes += align(bytes);
      return offset;
    };
    r.parts[b] = place(slots(kernel, splits) * r.piece_elements * 4);
    if (kernel.accumulate && rounds(kernel)) r.old[b] = place(r.piece_elements * eo);
    if (rounds(kernel)) r.sum[b] = place(r.piece_elements * eo);
  }
  const int64_t rows = kernel.batch * kernel.m, cores = std::min(chip.cores, rows);
  const int64_t cols = std::min(n, r.piece_elements);
  r.cores.resize(static_cast<size_t>(cores));
  for (int64_t c = 0; c < cores; ++c) {
    int64_t first = rows * c / cores, end = rows * (c + 1) / cores;
    int64_t most = std::max<int64_t>(1, std::min(r.piece_elements / cols, ceil_div(end - first, kPiecesPerCore)));
    for (int64_t row = first; row < end;) {
      int64_t batch = row / kernel.m, i = row % kernel.m;
      int64_t height = std::min({most, end - row, kernel.m - i});
      for (int64_t j = 0; j < n; j += cols)
        r.cores[static_cast<size_t>(c)].push_back({batch, i, j, height, std::min(cols, n - j)});
      row += height;
    }
  }
  return r;
}

void emit_gemm_reduction(const GemmKernel& k, const GemmReduction& r, int core, std::vector<Instruction>& out) {
  if (static_cast<size_t>(core) >= r.cores.size()) return;
  const std::vector<GemmPiece>& pieces = r.cores[static_cast<size_t>(core)];
  const int64_t eo = size_of(k.out_dtype), n = k.n, count = static_cast<int64_t>(pieces.size());
  const int64_t s = r.splits, slot_bytes = r.piece_elements * 4;
  auto hbm_out = [&](const GemmPiece& p) { return (p.batch * k.batch_stride_out + p.row * n + p.col) * eo; };
  auto load = [&](int64_t j) {
    const GemmPiece& p = pieces[static_cast<size_t>(j)];
    auto b = static_cast<size_t>(j % 2);
    if (j >= 2) out.push_back(wait(Engine::Dma, kPartsFree + static_cast<int>(b)));
    for (int64_t part = 0; part < s; ++part)
      out.push_back(dma(spm(r.parts[b] + part * slot_bytes), l2(partial_address(k, part, p.batch, p.row, p.col)),
                        p.rows, p.cols * 4, p.cols * 4, n * 4));
    if (k.accumulate) {
      int64_t dst = rounds(k) ? r.old[b] : r.parts[b] + s * slot_bytes;
      out.push_back(dma(spm(dst), out_at(hbm_out(p)), p.rows, p.cols * eo, p.cols * eo, n * eo));
    }
    out.push_back(signal(Engine::Dma, kPartsFull + static_cast<int>(b)));
  };
  auto add = [&](int64_t j) {
    const GemmPiece& p = pieces[static_cast<size_t>(j)];
    auto b = static_cast<size_t>(j % 2);
    out.push_back(wait(Engine::Vector, kPartsFull + static_cast<int>(b)));
    if (k.accumulate && rounds(k))
      out.push_back(vconvert(spm(r.parts[b] + s * slot_bytes), DType::F32, spm(r.old[b]), k.out_dtype, p.rows, p.cols));
    for (int64_t part = 1; part < slots(k, s); ++part)
      out.push_back(vbinary(isa::BinaryFn::Add, spm(r.parts[b]), spm(r.parts[b]), spm(r.parts[b] + part * slot_bytes),
                            p.rows, p.cols));
    if (rounds(k)) out.push_back(vconvert(spm(r.sum[b]), k.out_dtype, spm(r.parts[b]), DType::F32, p.rows, p.cols));
    out.push_back(signal(Engine::Vector, kSumReady + static_cast<int>(b)));
    if (j + 2 < count) out.push_back(signal(Engine::Vector, kPartsFree + static_cast<int>(b)));
  };
  auto store = [&](int64_t j) {
    const GemmPiece& p = pieces[static_cast<size_t>(j)];
    auto b = static_cast<size_t>(j % 2);
    out.push_back(wait(Engine::Dma, kSumReady + static_cast<int>(b)));
    out.push_back(dma(out_at(hbm_out(p)), spm(rounds(k) ? r.sum[b] : r.parts[b]), p.rows, p.cols * eo, n * eo,
                      p.cols * eo));
  };
  // The DMA queue: both buffers' loads, then each piece's store before the load that reuses its buffer.
  for (int64_t j = 0; j < std::min<int64_t>(2, count); ++j) load(j);
  for (int64_t j = 0; j < count; ++j) {
    add(j);
    store(j);
    if (j + 2 < count) load(j + 2);
  }
}

void append_gemm_reduction(isa::Program& program, const GemmKernel& kernel, const GemmReduction& reduction) {
  TS_ASSERT(!program.cores.empty() && program.cores[0].size() >= 3);
  std::vector<Instruction> args(program.cores[0].begin(), program.cores[0].begin() + 3);
  if (program.cores.size() < reduction.cores.size()) program.cores.resize(reduction.cores.size(), args);
  for (size_t c = 0; c < program.cores.size(); ++c) {
    program.cores[c].push_back(barrier());
    emit_gemm_reduction(kernel, reduction, static_cast<int>(c), program.cores[c]);
  }
}

std::string to_string(const GemmReduction& r) {
  int64_t pieces = 0;
  for (const auto& c : r.cores) pieces += static_cast<int64_t>(c.size());
  std::string s = fmt::format("k in {} parts added in {} pieces of up to {} elements over {} cores, {} bytes of "
                              "scratchpad\n",
                              r.splits, pieces, r.piece_elements, r.cores.size(), r.bytes);
  if (r.cores.empty()) return s;
  s += "core 0:";
  for (size_t i = 0; i < r.cores[0].size() && i < kPrintedPieces; ++i) {
    const GemmPiece& p = r.cores[0][i];
    s += fmt::format(" (b{} r{} c{} {}x{})", p.batch, p.row, p.col, p.rows, p.cols);
  }
  if (r.cores[0].size() > kPrintedPieces) s += fmt::format(" ... {} pieces", r.cores[0].size());
  return s + "\n";
}

}  // namespace tessera::compiler
