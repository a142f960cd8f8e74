// The GEMM emit pass (see gemm_emit.h).
#include "compiler/gemm_emit.h"

#include <algorithm>

#include "base/error.h"
#include "compiler/gemm_reduction.h"
#include "compiler/instructions.h"

namespace tessera::compiler {

using namespace emit;

namespace {

using Op = GemmStep::Op;

int64_t size_of(DType d) { return static_cast<int64_t>(dtype_size(d)); }

// Turns a raw tile (rows x cols, stored dtype `from`, transposed when `transposed`) into the
// matrix-dtype tile at `dst`, through `tmp` when it both converts and transposes.
void prepare(std::vector<Instruction>& out, int64_t dst, int64_t raw, int64_t tmp, DType from, DType to,
             bool transposed, int64_t rows, int64_t cols) {
  if (from != to && transposed) {
    out.push_back(vconvert(tmp, to, raw, from, rows, cols));
    out.push_back(vtranspose(dst, tmp, rows, cols, to));
  } else if (from != to) {
    out.push_back(vconvert(dst, to, raw, from, rows, cols));
  } else {
    out.push_back(vtranspose(dst, raw, rows, cols, to));
  }
}

}  // namespace

void GemmEmitter::emit(int core, const GemmStep& step, std::vector<Instruction>& out) const {
  isa::Engine engine = step.engine();
  for (int i = 0; i < step.wait_count; ++i)
    out.push_back(wait(engine, step.waits[static_cast<size_t>(i)]));
  body(p_.cores.at(static_cast<size_t>(core)).at(static_cast<size_t>(step.tile)), step, out);
  for (int i = 0; i < step.signal_count; ++i)
    out.push_back(signal(engine, step.signals[static_cast<size_t>(i)]));
}

void GemmEmitter::body(const GemmTile& tile, const GemmStep& s, std::vector<Instruction>& out) const {
  const int64_t M = k_.m, N = k_.n, K = k_.k;
  const int64_t k_steps = (K + t_.k - 1) / t_.k / t_.splits;  // per part
  const int64_t i0 = tile.row * t_.m, j0 = tile.col * t_.n, p0 = (tile.part * k_steps + s.kk) * t_.k;
  const int64_t mi = std::min(t_.m, M - i0), nj = std::min(t_.n, N - j0), kc = std::min(t_.k, K - p0);
  const DType mat = k_.matrix_dtype();
  const int64_t ea = size_of(k_.a_dtype), eb = size_of(k_.b_dtype), eo = size_of(k_.out_dtype), em = size_of(mat);
  const int64_t a_base = tile.batch * k_.batch_stride_a, b_base = tile.batch * k_.batch_stride_b;
  const int64_t out_base = tile.batch * k_.batch_stride_out;
  // Rows [r0, r1) of the tile's chunk.
  const int64_t r0 = mi * s.chunk / s.chunks, r1 = mi * (s.chunk + 1) / s.chunks;
  const auto buffer = static_cast<size_t>(s.buffer);
  switch (s.op) {
    case Op::LoadA: {
      int64_t dst = prepares_a(k_) ? l_.raw_a[buffer] : l_.a[buffer];
      if (k_.transpose_a)  // (kc x mi) of the stored (K x M)
        out.push_back(dma(spm(dst), hbm(kArgA, (a_base + p0 * M + i0) * ea), kc, mi * ea, mi * ea, M * ea));
      else
        out.push_back(dma(spm(dst + r0 * kc * ea), hbm(kArgA, (a_base + (i0 + r0) * K + p0) * ea), r1 - r0, kc * ea,
                           kc * ea, K * ea));
      return;
    }
    case Op::LoadB: {
      int64_t dst = prepares_b(k_) ? l_.raw_b[buffer] : l_.b[buffer];
      if (k_.transpose_b)  // (nj x kc) of the stored (N x K)
        out.push_back(dma(spm(dst), hbm(kArgB, (b_base + j0 * K + p0) * eb), nj, kc * eb, kc * eb, K * eb));
      else
        out.push_back(dma(spm(dst), hbm(kArgB, (b_base + p0 * N + j0) * eb), kc, nj * eb, nj * eb, N * eb));
      return;
    }
    case Op::PrepA:
      return prepare(out, l_.a[buffer], l_.raw_a[buffer], l_.tmp, k_.a_dtype, mat, k_.transpose_a,
                     k_.transpose_a ? kc : mi, k_.transpose_a ? mi : kc);
    case Op::PrepB:
      return prepare(out, l_.b[buffer], l_.raw_b[buffer], l_.tmp, k_.b_dtype, mat, k_.transpose_b,
                     k_.transpose_b ? nj : kc, k_.transpose_b ? kc : nj);
    case Op::Mma:
      out.push_back(
          mma(l_.acc + r0 * nj * 4, l_.a[buffer] + r0 * kc * em, l_.b[buffer], r1 - r0, nj, kc, s.kk > 0, mat));
      return;
    case Op::LoadOld:
      out.push_back(dma(spm(l_.old), hbm(kArgOut, (out_base + i0 * N + j0) * eo), mi, nj * eo, nj * eo, N * eo));
      return;
    case Op::Epilogue: {
      bool f32 = k_.out_dtype == DType::F32;
      if (k_.accumulate) {
        if (s.chunk == 0 && !f32) out.push_back(vconvert(l_.old_f32, DType::F32, l_.old, k_.out_dtype, mi, nj));
        int64_t old = f32 ? l_.old : l_.old_f32, dst = f32 ? l_.out : l_.acc;
        out.push_back(vbinary(isa::BinaryFn::Add, dst + r0 * nj * 4, l_.acc + r0 * nj * 4, old + r0 * nj * 4, r1 - r0,
                              nj));
      }
      if (!f32)
        out.push_back(vconvert(l_.out + r0 * nj * eo, k_.out_dtype, l_.acc + r0 * nj * 4, DType::F32, r1 - r0, nj));
      return;
    }
    case Op::Store: {
      int64_t src = vector_epilogue(k_) ? l_.out : l_.acc;
      if (t_.splits > 1) {  // an f32 partial sum into the L2 workspace
        Operand dst = at(isa::Space::L2, partial_address(k_, tile.part, tile.batch, i0 + r0, j0));
        out.push_back(dma(dst, spm(src + r0 * nj * 4), r1 - r0, nj * 4, N * 4, nj * 4));
        return;
      }
      out.push_back(dma(hbm(kArgOut, (out_base + (i0 + r0) * N + j0) * eo), spm(src + r0 * nj * eo), r1 - r0,
                         nj * eo, N * eo, nj * eo));
      return;
    }
  }
}

isa::Program emit_gemm_program(const GemmEmitter& emitter, const GemmSchedule& schedule, const GemmArgs& args) {
  isa::Program program;
  program.cores.resize(schedule.cores.size());
  for (size_t c = 0; c < schedule.cores.size(); ++c) {
    std::vector<Instruction>& stream = program.cores[c];
    stream = {li(kArgA, args.a), li(kArgB, args.b), li(kArgOut, args.out)};
    for (const GemmStep& step : schedule.cores[c]) emitter.emit(static_cast<int>(c), step, stream);
  }
  return program;
}

void set_gemm_args(isa::Program& program, const GemmArgs& args) {
  for (std::vector<Instruction>& stream : program.cores) {
    TS_ASSERT(stream.size() >= 3 && stream[0].op == Opcode::Li && stream[2].op == Opcode::Li);
    stream[0].operands[1].value = args.a;
    stream[1].operands[1].value = args.b;
    stream[2].operands[1].value = args.out;
  }
}

Instruction resolve_args(Instruction inst, const GemmArgs& args) {
  for (Operand& o : inst.operands) {
    if (o.kind != OperandKind::Addr || o.addr.reg < 0) continue;
    int64_t base = o.addr.reg == kArgA ? args.a : o.addr.reg == kArgB ? args.b : args.out;
    TS_ASSERT(o.addr.reg == kArgA || o.addr.reg == kArgB || o.addr.reg == kArgOut);
    o.addr.reg = -1;
    o.addr.offset += base;
  }
  return inst;
}

}  // namespace tessera::compiler
