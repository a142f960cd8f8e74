// The chip backend's causal attention kernels (see chip_backend.h): operands are staged as
// packed arrays of the inputs' dtype (f32 or bf16), the flash-style programs of
// compiler/attention_program.h round them to bf16 on the chip, and the results come back in
// the outputs' dtype.
#include "backends/chip/chip_backend.h"
#include "backends/chip/chip_launch.h"
#include "compiler/attention_program.h"

namespace tessera {

namespace {

compiler::AttentionProgram attention_shape(const View& q, float scale) {
  compiler::AttentionProgram a;
  a.heads = q.shape[0] * q.shape[1], a.seq = q.shape[2], a.head_dim = q.shape[3];
  a.scale = scale, a.dtype = q.dtype;
  return a;
}

}  // namespace

void ChipBackend::attention(const View& q, const View& k, const View& v, const View& out, const View& lse,
                            float scale) {
  if (q.numel() == 0) return;
  Launch l(*this, Kernel::Attention);
  compiler::AttentionProgram a = attention_shape(q, scale);
  a.q = l.stage_as(q, a.dtype), a.k = l.stage_as(k, a.dtype), a.v = l.stage_as(v, a.dtype);
  a.out = l.result(out, a.dtype), a.lse = l.result(lse, DType::F32);
  a.scratch = l.place(compiler::attention_scratch_bytes(a, false));
  l.run(programs_.program(chip(), "attention_forward", compiler::attention_key(a),
                          [&] { return compiler::attention_forward_program(chip(), a); }));
}

void ChipBackend::attention_backward(const View& q, const View& k, const View& v, const View& out, const View& lse,
                                     const View& dout, const View& dq, const View& dk, const View& dv, float scale) {
  if (q.numel() == 0) return;
  Launch l(*this, Kernel::AttentionBackward);
  compiler::AttentionProgram a = attention_shape(q, scale);
  a.q = l.stage_as(q, a.dtype), a.k = l.stage_as(k, a.dtype), a.v = l.stage_as(v, a.dtype);
  a.out = l.stage_as(out, a.dtype), a.dout = l.stage_as(dout, a.dtype);
  a.lse = l.stage_as(lse, DType::F32);
  a.dq = l.result(dq, a.dtype), a.dk = l.result(dk, a.dtype), a.dv = l.result(dv, a.dtype);
  a.scratch = l.place(compiler::attention_scratch_bytes(a, true));
  l.run(programs_.program(chip(), "attention_backward", compiler::attention_key(a),
                          [&] { return compiler::attention_backward_program(chip(), a); }));
}

}  // namespace tessera
