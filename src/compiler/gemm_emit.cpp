// The GEMM emit pass (see gemm_emit.h).
#include "compiler/gemm_emit.h"

#include <algorithm>

#include "base/error.h"
#include "compiler/gemm_reduction.h"

namespace tessera::compiler {

namespace {

using isa::Instruction;
using isa::Opcode;
using isa::Operand;
using isa::OperandKind;
using Op = GemmStep::Op;

Operand imm(int64_t v) { return {OperandKind::Imm, v, {}}; }
Operand kind(OperandKind k, int64_t v) { return {k, v, {}}; }
Operand dtype(DType d) { return kind(OperandKind::DType, static_cast<int64_t>(d)); }
Operand spm(int64_t offset) { return {OperandKind::Addr, 0, {isa::Space::Spm, -1, -1, offset}}; }
Operand hbm(int reg, int64_t offset) {
  return {OperandKind::Addr, 0, {isa::Space::Hbm, -1, static_cast<int8_t>(reg), offset}};
}

Instruction sync(Opcode op, isa::Engine e, int sem) {
  return {op, {kind(OperandKind::EngineName, static_cast<int64_t>(e)), imm(sem)}, 0};
}
Instruction copy(Operand dst, Operand src, int64_t rows, int64_t row_bytes, int64_t dst_stride, int64_t src_stride) {
  return {Opcode::DmaCopy, {dst, src, imm(rows), imm(row_bytes), imm(dst_stride), imm(src_stride)}, 0};
}
Instruction convert(int64_t dst, DType to, int64_t src, DType from, int64_t rows, int64_t cols) {
  return {Opcode::VConvert,
          {spm(dst), dtype(to), spm(src), dtype(from), imm(rows), imm(cols),
           kind(OperandKind::Rounding, static_cast<int64_t>(isa::Rounding::Rne)), kind(OperandKind::Reg, 0)},
          0};
}
Instruction transpose(int64_t dst, int64_t src, int64_t rows, int64_t cols, DType d) {
  return {Opcode::VTranspose, {spm(dst), spm(src), imm(rows), imm(cols), dtype(d)}, 0};
}
Instruction li(int reg, int64_t value) { return {Opcode::Li, {kind(OperandKind::Reg, reg), imm(value)}, 0}; }

int64_t size_of(DType d) { return static_cast<int64_t>(dtype_size(d)); }

// Turns a raw tile (rows x cols, stored dtype `from`, transposed when `transposed`) into the
// matrix-dtype tile at `dst`, through `tmp` when it both converts and transposes.
void prepare(std::vector<Instruction>& out, int64_t dst, int64_t raw, int64_t tmp, DType from, DType to,
             bool transposed, int64_t rows, int64_t cols) {
  if (from != to && transposed) {
    out.push_back(convert(tmp, to, raw, from, rows, cols));
    out.push_back(transpose(dst, tmp, rows, cols, to));
  } else if (from != to) {
    out.push_back(convert(dst, to, raw, from, rows, cols));
  } else {
    out.push_back(transpose(dst, raw, rows, cols, to));
  }
}

}  // namespace

void GemmEmitter::emit(int core, const GemmStep& step, std::vector<Instruction>& out) const {
  isa::Engine engine = step.engine();
  for (int i = 0; i < step.wait_count; ++i)
    out.push_back(sync(Opcode::Wait, engine, step.waits[static_cast<size_t>(i)]));
  body(p_.cores.at(static_cast<size_t>(core)).at(static_cast<size_t>(step.tile)), step, out);
  for (int i = 0; i < step.signal_count; ++i)
    out.push_back(sync(Opcode::Signal, engine, step.signals[static_cast<size_t>(i)]));
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
        out.push_back(copy(spm(dst), hbm(kArgA, (a_base + p0 * M + i0) * ea), kc, mi * ea, mi * ea, M * ea));
      else
        out.push_back(copy(spm(dst + r0 * kc * ea), hbm(kArgA, (a_base + (i0 + r0) * K + p0) * ea), r1 - r0, kc * ea,
                           kc * ea, K * ea));
      return;
    }
    case Op::LoadB: {
      int64_t dst = prepares_b(k_) ? l_.raw_b[buffer] : l_.b[buffer];
      if (k_.transpose_b)  // (nj x kc) of the stored (N x K)
        out.push_back(copy(spm(dst), hbm(kArgB, (b_base + j0 * K + p0) * eb), nj, kc * eb, kc * eb, K * eb));
      else
        out.push_back(copy(spm(dst), hbm(kArgB, (b_base + p0 * N + j0) * eb), kc, nj * eb, nj * eb, N * eb));
      return;
    }
    case Op::PrepA:
      return prepare(out, l_.a[buffer], l_.raw_a[buffer], l_.tmp, k_.a_dtype, mat, k_.transpose_a,
                     k_.transpose_a ? kc : mi, k_.transpose_a ? mi : kc);
    case Op::PrepB:
      return prepare(out, l_.b[buffer], l_.raw_b[buffer], l_.tmp, k_.b_dtype, mat, k_.transpose_b,
                     k_.transpose_b ? nj : kc, k_.transpose_b ? kc : nj);
    case Op::Mma: {
      auto mode = s.kk == 0 ? isa::AccMode::Overwrite : isa::AccMode::Accumulate;
      out.push_back({Opcode::Mma,
                     {spm(l_.acc + r0 * nj * 4), spm(l_.a[buffer] + r0 * kc * em), spm(l_.b[buffer]), imm(r1 - r0),
                      imm(nj), imm(kc), dtype(mat), kind(OperandKind::AccMode, static_cast<int64_t>(mode))},
                     0});
      return;
    }
    case Op::LoadOld:
      out.push_back(copy(spm(l_.old), hbm(kArgOut, (out_base + i0 * N + j0) * eo), mi, nj * eo, nj * eo, N * eo));
      return;
    case Op::Epilogue: {
      bool f32 = k_.out_dtype == DType::F32;
      if (k_.accumulate) {
        if (s.chunk == 0 && !f32) out.push_back(convert(l_.old_f32, DType::F32, l_.old, k_.out_dtype, mi, nj));
        int64_t old = f32 ? l_.old : l_.old_f32, dst = f32 ? l_.out : l_.acc;
        out.push_back({Opcode::VBinary,
                       {kind(OperandKind::BinaryFn, static_cast<int64_t>(isa::BinaryFn::Add)),
                        spm(dst + r0 * nj * 4), spm(l_.acc + r0 * nj * 4), spm(old + r0 * nj * 4), imm(r1 - r0),
                        imm(nj), dtype(DType::F32), kind(OperandKind::Broadcast, 0)},
                       0});
      }
      if (!f32)
        out.push_back(convert(l_.out + r0 * nj * eo, k_.out_dtype, l_.acc + r0 * nj * 4, DType::F32, r1 - r0, nj));
      return;
    }
    case Op::Store: {
      int64_t src = vector_epilogue(k_) ? l_.out : l_.acc;
      if (t_.splits > 1) {  // an f32 partial sum into the L2 workspace
        int64_t at = partial_address(k_, tile.part, tile.batch, i0 + r0, j0);
        Operand dst{OperandKind::Addr, 0, {isa::Space::L2, -1, -1, at}};
        out.push_back(copy(dst, spm(src + r0 * nj * 4), r1 - r0, nj * 4, N * 4, nj * 4));
        return;
      }
      out.push_back(copy(hbm(kArgOut, (out_base + (i0 + r0) * N + j0) * eo), spm(src + r0 * nj * eo), r1 - r0,
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
