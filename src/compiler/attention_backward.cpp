// The attention backward program (see attention_program.h): preparation, pass 1 over
// (head, k-block) jobs for dK and dV, a barrier, pass 2 over (head, q-block) jobs for dQ.
#include "compiler/attention_pipeline.h"
#include "compiler/attention_program.h"

namespace tessera::compiler {

using namespace attention;
using namespace emit;
using isa::Broadcast;
using F = isa::BinaryFn;

namespace {

// The bf16 arrays of the scratch (attention_scratch_bytes): natural and transposed blocks.
enum ScratchArray { kQ, kQt, kK, kKt, kV, kVt, kDout, kDoutT, kArrays };

// Pass 1 scratchpad; [2] are double buffers.
struct KeyTiles {
  Masks masks;
  int64_t k[2], v[2], qt[2], dot[2], q[2], dout[2], lse[2], delta[2], st[2], dpt[2], pt[2], dst[2];
  int64_t dk, dv, out_k[2], out_v[2];
};
// Pass 2 scratchpad.
struct QueryTiles {
  Masks masks;
  int64_t q[2], dout[2], lse[2], delta[2], kt[2], vt[2], k[2], s[2], dp[2], ds[2], dq, out[2];
};

KeyTiles key_tiles(const Dims& d, DType dtype, int64_t& bytes) {
  Arena spm;
  KeyTiles t;
  const int64_t B = d.block, D = d.head_dim, es = static_cast<int64_t>(dtype_size(dtype));
  t.masks = take_masks(spm, d, true);
  for (int i = 0; i < 2; ++i) {
    for (int64_t* tile : {&t.k[i], &t.v[i], &t.qt[i], &t.dot[i], &t.q[i], &t.dout[i]}) *tile = spm.take(B * D * 2);
    t.lse[i] = spm.take(B * 4), t.delta[i] = spm.take(B * 4);
    t.st[i] = spm.take(B * B * 4), t.dpt[i] = spm.take(B * B * 4), t.pt[i] = spm.take(B * B * 2);
    t.dst[i] = spm.take(B * B * 2), t.out_k[i] = spm.take(B * D * es), t.out_v[i] = spm.take(B * D * es);
  }
  t.dk = spm.take(B * D * 4), t.dv = spm.take(B * D * 4);
  bytes = spm.next;
  return t;
}

QueryTiles query_tiles(const Dims& d, DType dtype, int64_t& bytes) {
  Arena spm;
  QueryTiles t;
  const int64_t B = d.block, D = d.head_dim, es = static_cast<int64_t>(dtype_size(dtype));
  t.masks = take_masks(spm, d, false);
  for (int i = 0; i < 2; ++i) {
    for (int64_t* tile : {&t.q[i], &t.dout[i], &t.kt[i], &t.vt[i], &t.k[i]}) *tile = spm.take(B * D * 2);
    t.lse[i] = spm.take(B * 4), t.delta[i] = spm.take(B * 4);
    t.s[i] = spm.take(B * B * 4), t.dp[i] = spm.take(B * B * 4), t.ds[i] = spm.take(B * B * 2);
    t.out[i] = spm.take(B * D * es);
  }
  t.dq = spm.take(B * D * 4);
  bytes = spm.next;
  return t;
}

// f32 (rows x cols) at src into dst as dtype.
isa::Instruction to_dtype(int64_t dst, int64_t src, int64_t rows, int64_t cols, DType dtype) {
  if (dtype == DType::F32) return vunary(isa::UnaryFn::Copy, dst, src, rows, cols);
  return vconvert(dst, dtype, src, DType::F32, rows, cols);
}

}  // namespace

isa::Program attention_backward_program(const arch::ChipSpec& chip, const AttentionProgram& a) {
  int64_t key_bytes = 0, query_bytes = 0;
  Dims d = choose_dims(chip, a.heads, a.seq, a.head_dim, a.max_block, [&](const Dims& dims) {
    key_tiles(dims, a.dtype, key_bytes), query_tiles(dims, a.dtype, query_bytes);
    return std::max(key_bytes, query_bytes);
  });
  KeyTiles kt = key_tiles(d, a.dtype, key_bytes);
  QueryTiles qt = query_tiles(d, a.dtype, query_bytes);
  const int64_t D = d.head_dim, nb = d.blocks();
  const int64_t array = a.heads * a.seq * D * 2;
  auto external = [&](int64_t addr, const HeadStrides& strides) {
    return head_array(d, addr, a.dtype, strides, a.heads_per_batch);
  };
  const HeadArray q_in = external(a.q, a.q_strides), k_in = external(a.k, a.k_strides);
  const HeadArray v_in = external(a.v, a.v_strides), dout_in = external(a.dout, a.dout_strides);
  const HeadArray dq = external(a.dq, a.dq_strides), dk = external(a.dk, a.dk_strides);
  const HeadArray dv = external(a.dv, a.dv_strides);
  const bool convert = a.dtype == DType::F32;
  HeadArray x[kArrays];
  for (int i = 0; i < kArrays; ++i) x[i] = head_array(d, a.scratch + i * array, DType::BF16);
  if (!convert) x[kQ] = q_in, x[kK] = k_in, x[kV] = v_in, x[kDout] = dout_in;
  const int64_t delta = a.scratch + kArrays * array;
  Prep prep;
  prep.arrays = {{q_in, a.dtype, x[kQ].addr, x[kQt].addr},
                 {k_in, a.dtype, x[kK].addr, x[kKt].addr},
                 {v_in, a.dtype, x[kV].addr, x[kVt].addr},
                 {dout_in, a.dtype, x[kDout].addr, x[kDoutT].addr}};
  prep.dout = dout_in, prep.out = external(a.out, a.out_strides), prep.delta = delta;
  prep.dout_dtype = prep.out_dtype = a.dtype;

  std::vector<PipelineJob> key_jobs, query_jobs;
  for (int64_t bh = 0; bh < a.heads; ++bh)
    for (int64_t b = 0; b < nb; ++b) {
      key_jobs.push_back({bh * nb + b, nb - b});
      query_jobs.push_back({bh * nb + b, b + 1});
    }
  std::vector<std::vector<PipelineJob>> key_cores = assign_jobs(key_jobs, chip.cores);
  std::vector<std::vector<PipelineJob>> query_cores = assign_jobs(query_jobs, chip.cores);
  isa::Program program;
  program.cores.resize(static_cast<size_t>(std::min(chip.cores, 5 * a.heads * nb)));
  emit_prep(program.cores, chip, d, prep);
  auto block_rows = [&](int64_t b) { return d.rows(b); };
  auto row_offset = [&](int64_t bh, int64_t b) { return (bh * a.seq + b * d.block) * 4; };

  // Pass 1: job (head, k-block kb), block i streams q-block kb + i. Tiles are (keys x queries).
  Pipeline p1;
  p1.vector_loads = true;
  auto keys = [&](const Step& st) { return block_rows(st.job % nb); };
  auto queries = [&](const Step& st) { return block_rows(st.job % nb + st.block); };
  p1.load = [&](Stream& s, const Step& st) {
    int64_t bh = st.job / nb, kb = st.job % nb, qb = kb + st.block, p = st.parity(), nk = keys(st), nq = queries(st);
    if (st.first) {
      s.push_back(load_rows(kt.k[st.job_parity()], d, x[kK], bh, kb, nk));
      s.push_back(load_rows(kt.v[st.job_parity()], d, x[kV], bh, kb, nk));
    }
    s.push_back(load(kt.qt[p], x[kQt].addr + d.offset(bh, qb, 2), nq * D * 2));
    s.push_back(load(kt.dot[p], x[kDoutT].addr + d.offset(bh, qb, 2), nq * D * 2));
    s.push_back(load_rows(kt.q[p], d, x[kQ], bh, qb, nq));
    s.push_back(load_rows(kt.dout[p], d, x[kDout], bh, qb, nq));
    s.push_back(load(kt.lse[p], a.lse + row_offset(bh, qb), nq * 4));
    s.push_back(load(kt.delta[p], delta + row_offset(bh, qb), nq * 4));
  };
  p1.stage_a = [&](Stream& s, const Step& st) {
    int p = st.parity(), j = st.job_parity();
    s.push_back(mma(kt.st[p], kt.k[j], kt.qt[p], keys(st), queries(st), D, false));   // S^T = K Q^T
    s.push_back(mma(kt.dpt[p], kt.v[j], kt.dot[p], keys(st), queries(st), D, false));  // dP^T = V dO^T
  };
  p1.vector = [&](Stream& s, const Step& st) {
    int p = st.parity();
    int64_t r = keys(st), c = queries(st), S = kt.st[p], dP = kt.dpt[p];
    s.push_back(vbinary(F::Mul, S, S, kt.masks.scale, r, c, Broadcast::Scalar));
    if (st.block == 0) s.push_back(vbinary(F::Add, S, S, kt.masks.of(d, r, true), r, c));
    s.push_back(vbinary(F::Sub, S, S, kt.lse[p], r, c, Broadcast::Row));
    s.push_back(vunary(isa::UnaryFn::Exp, S, S, r, c));  // P^T
    s.push_back(vconvert(kt.pt[p], DType::BF16, S, DType::F32, r, c));
    s.push_back(vbinary(F::Sub, dP, dP, kt.delta[p], r, c, Broadcast::Row));
    s.push_back(vbinary(F::Mul, dP, dP, S, r, c));
    s.push_back(vbinary(F::Mul, dP, dP, kt.masks.scale, r, c, Broadcast::Scalar));  // dS^T * scale
    s.push_back(vconvert(kt.dst[p], DType::BF16, dP, DType::F32, r, c));
  };
  p1.stage_b = [&](Stream& s, const Step& st) {
    int p = st.parity();
    s.push_back(mma(kt.dv, kt.pt[p], kt.dout[p], keys(st), D, queries(st), !st.first));
    s.push_back(mma(kt.dk, kt.dst[p], kt.q[p], keys(st), D, queries(st), !st.first));
  };
  p1.finalize = [&](Stream& s, const Step& st) {
    s.push_back(to_dtype(kt.out_k[st.job_parity()], kt.dk, keys(st), D, a.dtype));
    s.push_back(to_dtype(kt.out_v[st.job_parity()], kt.dv, keys(st), D, a.dtype));
  };
  p1.store = [&](Stream& s, const Step& st) {
    int64_t bh = st.job / nb, kb = st.job % nb;
    s.push_back(store_rows(d, dk, bh, kb, kt.out_k[st.job_parity()], keys(st)));
    s.push_back(store_rows(d, dv, bh, kb, kt.out_v[st.job_parity()], keys(st)));
  };

  // Pass 2: job (head, q-block qb), block kb streams k-block kb. Tiles are (queries x keys).
  Pipeline p2;
  p2.vector_loads = true;
  auto rows = [&](const Step& st) { return block_rows(st.job % nb); };
  auto cols = [&](const Step& st) { return block_rows(st.block); };
  p2.load = [&](Stream& s, const Step& st) {
    int64_t bh = st.job / nb, qb = st.job % nb, kb = st.block, p = st.parity(), j = st.job_parity();
    if (st.first) {
      s.push_back(load_rows(qt.q[j], d, x[kQ], bh, qb, rows(st)));
      s.push_back(load_rows(qt.dout[j], d, x[kDout], bh, qb, rows(st)));
      s.push_back(load(qt.lse[j], a.lse + row_offset(bh, qb), rows(st) * 4));
      s.push_back(load(qt.delta[j], delta + row_offset(bh, qb), rows(st) * 4));
    }
    s.push_back(load(qt.kt[p], x[kKt].addr + d.offset(bh, kb, 2), cols(st) * D * 2));
    s.push_back(load(qt.vt[p], x[kVt].addr + d.offset(bh, kb, 2), cols(st) * D * 2));
    s.push_back(load_rows(qt.k[p], d, x[kK], bh, kb, cols(st)));
  };
  p2.stage_a = [&](Stream& s, const Step& st) {
    int p = st.parity(), j = st.job_parity();
    s.push_back(mma(qt.s[p], qt.q[j], qt.kt[p], rows(st), cols(st), D, false));      // S = Q K^T
    s.push_back(mma(qt.dp[p], qt.dout[j], qt.vt[p], rows(st), cols(st), D, false));  // dP = dO V^T
  };
  p2.vector = [&](Stream& s, const Step& st) {
    int p = st.parity(), j = st.job_parity();
    int64_t r = rows(st), c = cols(st), S = qt.s[p], dP = qt.dp[p];
    s.push_back(vbinary(F::Mul, S, S, qt.masks.scale, r, c, Broadcast::Scalar));
    if (st.last) s.push_back(vbinary(F::Add, S, S, qt.masks.of(d, r, false), r, c));
    s.push_back(vbinary(F::Sub, S, S, qt.lse[j], r, c, Broadcast::Col));
    s.push_back(vunary(isa::UnaryFn::Exp, S, S, r, c));  // P
    s.push_back(vbinary(F::Sub, dP, dP, qt.delta[j], r, c, Broadcast::Col));
    s.push_back(vbinary(F::Mul, dP, dP, S, r, c));
    s.push_back(vbinary(F::Mul, dP, dP, qt.masks.scale, r, c, Broadcast::Scalar));  // dS * scale
    s.push_back(vconvert(qt.ds[p], DType::BF16, dP, DType::F32, r, c));
  };
  p2.stage_b = [&](Stream& s, const Step& st) {
    s.push_back(mma(qt.dq, qt.ds[st.parity()], qt.k[st.parity()], rows(st), D, cols(st), !st.first));
  };
  p2.finalize = [&](Stream& s, const Step& st) {
    s.push_back(to_dtype(qt.out[st.job_parity()], qt.dq, rows(st), D, a.dtype));
  };
  p2.store = [&](Stream& s, const Step& st) {
    int64_t bh = st.job / nb, qb = st.job % nb;
    s.push_back(store_rows(d, dq, bh, qb, qt.out[st.job_parity()], rows(st)));
  };

  for (size_t core = 0; core < program.cores.size(); ++core) {
    Stream& s = program.cores[core];
    if (core < key_cores.size()) {
      emit_masks(s, d, kt.masks, true, a.scale);
      emit_pipeline(s, key_cores[core], p1);
    }
    s.push_back(barrier());
    if (core < query_cores.size()) {
      emit_masks(s, d, qt.masks, false, a.scale);
      emit_pipeline(s, query_cores[core], p2);
    }
  }
  return program;
}

}  // namespace tessera::compiler
