// The attention forward program (see attention_program.h): preparation, then one pipeline job
// per (head, q-block) with online softmax.
#include "compiler/attention_pipeline.h"
#include "compiler/attention_program.h"
#include "compiler/program_key.h"

namespace tessera::compiler {

using namespace attention;
using namespace emit;
using isa::Broadcast;
using F = isa::BinaryFn;

int64_t attention_scratch_bytes(const AttentionProgram& a, bool backward) {
  int64_t array = a.heads * a.seq * a.head_dim * 2;  // one bf16 (heads, T, D) array
  return backward ? 8 * array + a.heads * a.seq * 4 : 3 * array;
}

std::string attention_key(const AttentionProgram& a) {
  static_assert(field_count<AttentionProgram>() == 25, "AttentionProgram changed: name every field in attention_key");
  static_assert(field_count<HeadStrides>() == 3, "HeadStrides changed: name every field in attention_key");
  ProgramKey k;
  k << a.heads << a.seq << a.head_dim << a.heads_per_batch << a.scale << a.dtype << a.q << a.k << a.v << a.out
    << a.lse << a.dout << a.dq << a.dk << a.dv << a.scratch << a.max_block;
  for (const HeadStrides* s : {&a.q_strides, &a.k_strides, &a.v_strides, &a.out_strides, &a.dout_strides,
                               &a.dq_strides, &a.dk_strides, &a.dv_strides})
    k << s->batch << s->head << s->row;
  return k.take();
}

namespace {

// Scratchpad of the forward pass; [2] are double buffers.
struct ForwardTiles {
  Masks masks;
  int64_t q[2], kt[2], v[2], s[2], p[2], m[2], partial, alpha, l, o, out[2], lse[2];
};

ForwardTiles forward_tiles(const Dims& d, DType dtype, int64_t& bytes) {
  Arena spm;
  ForwardTiles t;
  const int64_t B = d.block, D = d.head_dim;
  t.masks = take_masks(spm, d, false);
  for (int i = 0; i < 2; ++i) {
    t.q[i] = spm.take(B * D * 2), t.kt[i] = spm.take(D * B * 2), t.v[i] = spm.take(B * D * 2);
    t.s[i] = spm.take(B * B * 4), t.p[i] = spm.take(B * B * 2), t.m[i] = spm.take(B * 4);
    t.out[i] = spm.take(B * D * static_cast<int64_t>(dtype_size(dtype))), t.lse[i] = spm.take(B * 4);
  }
  t.partial = spm.take(B * 4), t.alpha = spm.take(B * 4), t.l = spm.take(B * 4), t.o = spm.take(B * D * 4);
  bytes = spm.next;
  return t;
}

}  // namespace

isa::Program attention_forward_program(const arch::ChipSpec& chip, const AttentionProgram& a) {
  int64_t bytes = 0;
  Dims d = choose_dims(chip, a.heads, a.seq, a.head_dim, a.max_block, [&](const Dims& dims) {
    forward_tiles(dims, a.dtype, bytes);
    return bytes;
  });
  ForwardTiles t = forward_tiles(d, a.dtype, bytes);
  const int64_t D = d.head_dim, nb = d.blocks();
  const int64_t array = a.heads * a.seq * D * 2;
  const HeadArray q_in = head_array(d, a.q, a.dtype, a.q_strides, a.heads_per_batch);
  const HeadArray k_in = head_array(d, a.k, a.dtype, a.k_strides, a.heads_per_batch);
  const HeadArray v_in = head_array(d, a.v, a.dtype, a.v_strides, a.heads_per_batch);
  const HeadArray out = head_array(d, a.out, a.dtype, a.out_strides, a.heads_per_batch);
  // bf16 q and v: the inputs themselves, or their rounded copies.
  const bool convert = a.dtype == DType::F32;
  const HeadArray q = convert ? head_array(d, a.scratch, DType::BF16) : q_in;
  const HeadArray v = convert ? head_array(d, a.scratch + array, DType::BF16) : v_in;
  const int64_t kt = a.scratch + 2 * array;
  Prep prep;
  prep.arrays = {{q_in, a.dtype, q.addr, -1}, {v_in, a.dtype, v.addr, -1}, {k_in, a.dtype, -1, kt}};

  std::vector<PipelineJob> jobs;
  for (int64_t bh = 0; bh < a.heads; ++bh)
    for (int64_t qb = 0; qb < nb; ++qb) jobs.push_back({bh * nb + qb, qb + 1});
  std::vector<std::vector<PipelineJob>> per_core = assign_jobs(jobs, chip.cores);
  int64_t prep_jobs = 3 * a.heads * nb;
  isa::Program program;
  program.cores.resize(static_cast<size_t>(std::min(chip.cores, std::max<int64_t>(prep_jobs, jobs.size()))));
  emit_prep(program.cores, chip, d, prep);

  Pipeline p;
  p.acc_each_block = true;  // the accumulator is rescaled before every block but the first
  auto rows = [&](const Step& st) { return d.rows(st.job % nb); };
  auto cols = [&](const Step& st) { return d.rows(st.block); };
  p.load = [&](Stream& s, const Step& st) {
    int64_t bh = st.job / nb, qb = st.job % nb, kb = st.block;
    if (st.first) s.push_back(load_rows(t.q[st.job_parity()], d, q, bh, qb, rows(st)));
    s.push_back(load(t.kt[st.parity()], kt + d.offset(bh, kb, 2), cols(st) * D * 2));
    s.push_back(load_rows(t.v[st.parity()], d, v, bh, kb, cols(st)));
  };
  p.stage_a = [&](Stream& s, const Step& st) {
    s.push_back(mma(t.s[st.parity()], t.q[st.job_parity()], t.kt[st.parity()], rows(st), cols(st), D, false));
  };
  p.vector = [&](Stream& s, const Step& st) {
    int64_t r = rows(st), c = cols(st), S = t.s[st.parity()];
    int64_t m = t.m[st.block % 2], m_old = t.m[(st.block + 1) % 2];
    s.push_back(vbinary(F::Mul, S, S, t.masks.scale, r, c, Broadcast::Scalar));
    if (st.block == st.job % nb) s.push_back(vbinary(F::Add, S, S, t.masks.of(d, r, false), r, c));
    if (st.first) {
      s.push_back(vreduce(isa::ReduceFn::Max, m, S, r, c));
    } else {
      s.push_back(vreduce(isa::ReduceFn::Max, t.partial, S, r, c));
      s.push_back(vbinary(F::Max, m, m_old, t.partial, r, 1));
      s.push_back(vbinary(F::Sub, t.alpha, m_old, m, r, 1));
      s.push_back(vunary(isa::UnaryFn::Exp, t.alpha, t.alpha, r, 1));  // exp(m_old - m)
    }
    s.push_back(vbinary(F::Sub, S, S, m, r, c, Broadcast::Col));
    s.push_back(vunary(isa::UnaryFn::Exp, S, S, r, c));  // P, f32
    if (st.first) {
      s.push_back(vreduce(isa::ReduceFn::Sum, t.l, S, r, c));
    } else {
      s.push_back(vreduce(isa::ReduceFn::Sum, t.partial, S, r, c));
      s.push_back(vbinary(F::Mul, t.l, t.l, t.alpha, r, 1));
      s.push_back(vbinary(F::Add, t.l, t.l, t.partial, r, 1));
      // The previous block's O += P V must be done before O is rescaled.
      s.push_back(wait(isa::Engine::Vector, kAccDone));
      s.push_back(vbinary(F::Mul, t.o, t.o, t.alpha, r, D, Broadcast::Col));
    }
    s.push_back(vconvert(t.p[st.parity()], DType::BF16, S, DType::F32, r, c));
  };
  p.stage_b = [&](Stream& s, const Step& st) {
    s.push_back(mma(t.o, t.p[st.parity()], t.v[st.parity()], rows(st), D, cols(st), !st.first));
  };
  p.finalize = [&](Stream& s, const Step& st) {
    int64_t r = rows(st), out = t.out[st.job_parity()], lse = t.lse[st.job_parity()];
    if (a.dtype == DType::F32) {
      s.push_back(vbinary(F::Div, out, t.o, t.l, r, D, Broadcast::Col));
    } else {
      s.push_back(vbinary(F::Div, t.o, t.o, t.l, r, D, Broadcast::Col));
      s.push_back(vconvert(out, a.dtype, t.o, DType::F32, r, D));
    }
    s.push_back(vunary(isa::UnaryFn::Log, lse, t.l, r, 1));
    s.push_back(vbinary(F::Add, lse, lse, t.m[st.block % 2], r, 1));
  };
  p.store = [&](Stream& s, const Step& st) {
    int64_t bh = st.job / nb, qb = st.job % nb;
    s.push_back(store_rows(d, out, bh, qb, t.out[st.job_parity()], rows(st)));
    s.push_back(store(a.lse + (bh * a.seq + qb * d.block) * 4, t.lse[st.job_parity()], rows(st) * 4));
  };
  for (size_t core = 0; core < per_core.size(); ++core) {
    emit_masks(program.cores[core], d, t.masks, false, a.scale);
    emit_pipeline(program.cores[core], per_core[core], p);
  }
  return program;
}

}  // namespace tessera::compiler
