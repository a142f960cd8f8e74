// The attention programs' building blocks (see attention_pipeline.h): the preparation pass, the
// causal masks and the block pipeline.
#include "compiler/attention_pipeline.h"

#include <algorithm>
#include <cmath>
#include <queue>

#include "base/error.h"

namespace tessera::compiler::attention {

using namespace emit;

Dims choose_dims(const arch::ChipSpec& chip, int64_t heads, int64_t seq, int64_t head_dim, int64_t max_block,
                 const std::function<int64_t(const Dims&)>& bytes) {
  for (int64_t block = max_block; block >= 8; block /= 2) {
    Dims d{heads, seq, head_dim, std::min(block, seq)};
    if (std::max(prep_scratchpad_bytes(d), bytes(d)) <= chip.scratchpad_bytes) return d;
  }
  fail("chip {}: attention with head dimension {} does not fit its {} bytes of scratchpad even in blocks of 8 rows",
       chip.name, head_dim, chip.scratchpad_bytes);
}

HeadArray head_array(const Dims& d, int64_t addr, DType dtype, const HeadStrides& strides, int64_t heads_per_batch) {
  HeadArray a;
  a.addr = addr, a.element = static_cast<int64_t>(dtype_size(dtype));
  a.heads_per_batch = heads_per_batch > 0 ? heads_per_batch : std::max<int64_t>(d.heads, 1);
  if (strides.packed()) {
    a.row = d.head_dim, a.head = d.seq * d.head_dim, a.batch = a.heads_per_batch * a.head;
  } else {
    a.batch = strides.batch, a.head = strides.head, a.row = strides.row;
  }
  return a;
}

isa::Instruction load_rows(int64_t spm_addr, const Dims& d, const HeadArray& a, int64_t bh, int64_t b, int64_t rows) {
  int64_t row_bytes = d.head_dim * a.element;
  if (a.row == d.head_dim) return load(spm_addr, a.row_addr(bh, b * d.block), rows * row_bytes);
  return dma(spm(spm_addr), hbm(a.row_addr(bh, b * d.block)), rows, row_bytes, row_bytes, a.row * a.element);
}

isa::Instruction store_rows(const Dims& d, const HeadArray& a, int64_t bh, int64_t b, int64_t spm_addr,
                            int64_t rows) {
  int64_t row_bytes = d.head_dim * a.element;
  if (a.row == d.head_dim) return store(a.row_addr(bh, b * d.block), spm_addr, rows * row_bytes);
  return dma(hbm(a.row_addr(bh, b * d.block)), spm(spm_addr), rows, row_bytes, a.row * a.element, row_bytes);
}

// ---- Preparation -------------------------------------------------------------------------

namespace {

// One buffer set of the preparation pass, for `rows` rows: two f32-sized source tiles, a bf16
// tile, the transposed bf16 blocks and a row-sum column.
struct PrepSet {
  int64_t a, b, bf16, transposed, sum;
};
PrepSet take_prep_set(Arena& spm, const Dims& d, int64_t rows) {
  int64_t tile = rows * d.head_dim;
  return {spm.take(tile * 4), spm.take(tile * 4), spm.take(tile * 2), spm.take(tile * 2), spm.take(rows * 4)};
}
int64_t prep_bytes(const Dims& d, int64_t rows) {
  Arena spm;
  take_prep_set(spm, d, rows), take_prep_set(spm, d, rows);
  return spm.next;
}

// A job converts `count` consecutive blocks of one array (array >= 0) or computes their delta.
struct PrepJob {
  int array = -1;
  int64_t head = 0, block = 0, count = 1;
};

constexpr int64_t kPrepRows = 512;  // rows per preparation job at most: fewer, longer DMA copies

}  // namespace

int64_t prep_scratchpad_bytes(const Dims& dims) { return prep_bytes(dims, dims.block); }

void emit_prep(std::vector<Stream>& cores, const arch::ChipSpec& chip, const Dims& d, const Prep& prep) {
  int64_t group = std::max<int64_t>(1, std::min(kPrepRows / d.block, d.blocks()));
  while (group > 1 && prep_bytes(d, group * d.block) > chip.scratchpad_bytes) --group;
  Arena spm;
  PrepSet sets[2] = {take_prep_set(spm, d, group * d.block), take_prep_set(spm, d, group * d.block)};
  std::vector<PrepJob> jobs;
  auto add_jobs = [&](int array) {
    for (int64_t bh = 0; bh < d.heads; ++bh)
      for (int64_t b = 0; b < d.blocks(); b += group) jobs.push_back({array, bh, b, std::min(group, d.blocks() - b)});
  };
  for (int a = 0; a < static_cast<int>(prep.arrays.size()); ++a) {
    const PrepArray& array = prep.arrays[static_cast<size_t>(a)];
    if ((array.natural >= 0 && array.dtype == DType::F32) || array.transposed >= 0) add_jobs(a);
  }
  if (prep.delta >= 0) add_jobs(-1);

  const int64_t D = d.head_dim;
  auto job_rows = [&](const PrepJob& job) { return std::min(job.count * d.block, d.seq - job.block * d.block); };
  for (size_t core = 0; core < cores.size(); ++core) {
    Stream& s = cores[core];
    std::vector<PrepJob> mine;
    for (size_t j = core; j < jobs.size(); j += cores.size()) mine.push_back(jobs[j]);
    auto load_job = [&](size_t i) {
      const PrepJob& job = mine[i];
      const PrepSet& set = sets[i % 2];
      int64_t rows = job_rows(job);
      if (job.array >= 0) {
        const PrepArray& array = prep.arrays[static_cast<size_t>(job.array)];
        s.push_back(load_rows(set.a, d, array.src, job.head, job.block, rows));
      } else {
        s.push_back(load_rows(set.a, d, prep.dout, job.head, job.block, rows));
        s.push_back(load_rows(set.b, d, prep.out, job.head, job.block, rows));
      }
      s.push_back(signal(Engine::Dma, kPrepLoaded));
    };
    if (!mine.empty()) load_job(0);
    for (size_t i = 0; i < mine.size(); ++i) {
      if (i + 1 < mine.size()) load_job(i + 1);
      const PrepJob& job = mine[i];
      const PrepSet& set = sets[i % 2];
      int64_t rows = job_rows(job);
      s.push_back(wait(Engine::Vector, kPrepLoaded));
      if (job.array >= 0) {
        const PrepArray& array = prep.arrays[static_cast<size_t>(job.array)];
        int64_t bf16 = set.a;  // (rows x D) bf16
        if (array.dtype == DType::F32) {
          s.push_back(vconvert(set.bf16, DType::BF16, set.a, DType::F32, rows, D));
          bf16 = set.bf16;
        }
        // Block b's (D x its rows) tile sits where its rows were: as in HBM.
        if (array.transposed >= 0)
          for (int64_t b = 0; b < job.count; ++b) {
            int64_t at = b * d.block * D * 2;
            s.push_back(vtranspose(set.transposed + at, bf16 + at, d.rows(job.block + b), D, DType::BF16));
          }
        s.push_back(signal(Engine::Vector, kPrepDone));
        s.push_back(wait(Engine::Dma, kPrepDone));
        if (array.natural >= 0 && array.dtype == DType::F32)
          s.push_back(store(array.natural + d.offset(job.head, job.block, 2), set.bf16, rows * D * 2));
        if (array.transposed >= 0)
          s.push_back(store(array.transposed + d.offset(job.head, job.block, 2), set.transposed, rows * D * 2));
      } else {
        // delta = rowsum(dout * out) in f32; bf16 tiles widen in place.
        if (prep.dout_dtype != DType::F32) s.push_back(vconvert(set.a, DType::F32, set.a, prep.dout_dtype, rows, D));
        if (prep.out_dtype != DType::F32) s.push_back(vconvert(set.b, DType::F32, set.b, prep.out_dtype, rows, D));
        s.push_back(vbinary(isa::BinaryFn::Mul, set.a, set.a, set.b, rows, D));
        s.push_back(vreduce(isa::ReduceFn::Sum, set.sum, set.a, rows, D));
        s.push_back(signal(Engine::Vector, kPrepDone));
        s.push_back(wait(Engine::Dma, kPrepDone));
        s.push_back(store(prep.delta + (job.head * d.seq + job.block * d.block) * 4, set.sum, rows * 4));
      }
    }
    s.push_back(barrier());
  }
}

// ---- Masks --------------------------------------------------------------------------------

int64_t Masks::of(const Dims& d, int64_t rows, bool transposed) const {
  if (rows == d.block) return transposed ? full_t : full;
  return transposed ? tail_t : tail;
}

Masks take_masks(Arena& spm, const Dims& d, bool transposed) {
  Masks m;
  int64_t tail = d.rows(d.blocks() - 1);
  m.row = spm.take(3 * d.block * 4);
  m.scale = spm.take(4);
  int64_t& full = transposed ? m.full_t : m.full;
  int64_t& last = transposed ? m.tail_t : m.tail;
  full = spm.take(d.block * d.block * 4);
  last = tail == d.block ? full : spm.take(tail * tail * 4);
  return m;
}

void emit_masks(Stream& s, const Dims& d, const Masks& m, bool transposed, float scale) {
  const int64_t B = d.block;
  s.push_back(vfill(m.row, -INFINITY, 1, B));
  s.push_back(vfill(m.row + B * 4, 0.0f, 1, B));
  s.push_back(vfill(m.row + 2 * B * 4, -INFINITY, 1, B));
  s.push_back(vfill(m.scale, scale, 1, 1));
  s.push_back(signal(Engine::Vector, kMaskFilled));
  s.push_back(wait(Engine::Dma, kMaskFilled));
  // Row i of a (queries x keys) mask is the row read from 2B - 1 - i: element j is 0 iff
  // j <= i. Row a of a (keys x queries) mask is read from B - a: element b is 0 iff a <= b.
  // Each row starts one element before the previous one: a source stride of -4 bytes.
  int64_t start = transposed ? B : 2 * B - 1;
  int64_t tail = d.rows(d.blocks() - 1);
  auto copy = [&](int64_t rows) {
    s.push_back(dma(spm(m.of(d, rows, transposed)), spm(m.row + start * 4), rows, rows * 4, rows * 4, -4));
  };
  copy(B);
  if (tail != B) copy(tail);
  s.push_back(signal(Engine::Dma, kMaskReady));
  s.push_back(wait(Engine::Vector, kMaskReady));
}

// ---- Pipeline -----------------------------------------------------------------------------

std::vector<std::vector<PipelineJob>> assign_jobs(std::vector<PipelineJob> jobs, int64_t cores) {
  std::stable_sort(jobs.begin(), jobs.end(), [](const PipelineJob& a, const PipelineJob& b) {
    return a.blocks > b.blocks;
  });
  auto used = std::min<int64_t>(cores, std::max<int64_t>(static_cast<int64_t>(jobs.size()), 1));
  std::vector<std::vector<PipelineJob>> out(static_cast<size_t>(used));
  using Load = std::pair<int64_t, size_t>;  // (blocks so far, core)
  std::priority_queue<Load, std::vector<Load>, std::greater<>> least;
  for (size_t c = 0; c < out.size(); ++c) least.push({0, c});
  for (const PipelineJob& job : jobs) {
    auto [blocks, core] = least.top();
    least.pop();
    out[core].push_back(job);
    least.push({blocks + job.blocks, core});
  }
  return out;
}

void emit_pipeline(Stream& s, const std::vector<PipelineJob>& jobs, const Pipeline& p) {
  std::vector<Step> steps;
  for (size_t j = 0; j < jobs.size(); ++j)
    for (int64_t b = 0; b < jobs[j].blocks; ++b) {
      Step st;
      st.job = jobs[j].id, st.block = b, st.n = static_cast<int64_t>(steps.size());
      st.ordinal = static_cast<int64_t>(j), st.first = b == 0, st.last = b + 1 == jobs[j].blocks;
      steps.push_back(st);
    }
  const auto N = static_cast<int64_t>(steps.size());
  const auto J = static_cast<int64_t>(jobs.size());
  auto stage_a = [&](const Step& st) {
    s.push_back(wait(Engine::Matrix, kLoadedMatrix));
    p.stage_a(s, st);
    s.push_back(signal(Engine::Matrix, kStageA));
  };
  auto store_job = [&](const Step& last) {
    s.push_back(wait(Engine::Dma, kOutReady));
    p.store(s, last);
    if (last.ordinal + 2 < J) s.push_back(signal(Engine::Dma, kOutFree));
  };
  std::vector<Step> unstored;  // last blocks of jobs whose outputs are not yet stored
  size_t next_store = 0;
  for (int64_t n = 0; n < N; ++n) {
    const Step& st = steps[static_cast<size_t>(n)];
    // DMA: the block's tiles, and the outputs of jobs that ended two blocks ago.
    if (n >= 2) s.push_back(wait(Engine::Dma, kFree));
    p.load(s, st);
    s.push_back(signal(Engine::Dma, kLoadedMatrix));
    if (p.vector_loads) s.push_back(signal(Engine::Dma, kLoadedVector));
    while (next_store < unstored.size() && unstored[next_store].n + 2 <= n) store_job(unstored[next_store++]);
    // Matrix: stage A one block ahead of stage B.
    if (n == 0) stage_a(st);
    if (n + 1 < N) stage_a(steps[static_cast<size_t>(n + 1)]);
    s.push_back(wait(Engine::Matrix, kStageV));
    p.stage_b(s, st);
    if (n + 2 < N) s.push_back(signal(Engine::Matrix, kFree));
    if (p.acc_each_block || st.last) s.push_back(signal(Engine::Matrix, kAccDone));
    // Vector: the block, then the job's outputs after its last block.
    s.push_back(wait(Engine::Vector, kStageA));
    if (p.vector_loads) s.push_back(wait(Engine::Vector, kLoadedVector));
    p.vector(s, st);
    s.push_back(signal(Engine::Vector, kStageV));
    if (st.last) {
      s.push_back(wait(Engine::Vector, kAccDone));
      if (st.ordinal >= 2) s.push_back(wait(Engine::Vector, kOutFree));
      p.finalize(s, st);
      s.push_back(signal(Engine::Vector, kOutReady));
      unstored.push_back(st);
    }
  }
  while (next_store < unstored.size()) store_job(unstored[next_store++]);
}

}  // namespace tessera::compiler::attention
