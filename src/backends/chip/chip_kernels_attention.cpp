// The chip backend's causal attention kernels (see chip_backend.h): operands are staged as
// packed arrays of the inputs' dtype (f32 or bf16), the flash-style programs of
// compiler/attention_program.h round them to bf16 on the chip, and the results come back in
// the outputs' dtype.
#include "backends/chip/chip_backend.h"
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
  std::lock_guard lock(launch_mutex_);
  Staging hbm;
  compiler::AttentionProgram a = attention_shape(q, scale);
  a.q = stage_as(hbm, q, a.dtype), a.k = stage_as(hbm, k, a.dtype), a.v = stage_as(hbm, v, a.dtype);
  int64_t bytes = q.numel() * static_cast<int64_t>(dtype_size(a.dtype));
  a.out = hbm.place(bytes), a.lse = hbm.place(lse.numel() * 4);
  a.scratch = hbm.place(compiler::attention_scratch_bytes(a, false));
  run(Kernel::Attention, compiler::attention_forward_program(chip(), a));
  fetch_as(out, a.out, a.dtype);
  fetch_as(lse, a.lse, DType::F32);
}

void ChipBackend::attention_backward(const View& q, const View& k, const View& v, const View& out, const View& lse,
                                     const View& dout, const View& dq, const View& dk, const View& dv, float scale) {
  if (q.numel() == 0) return;
  std::lock_guard lock(launch_mutex_);
  Staging hbm;
  compiler::AttentionProgram a = attention_shape(q, scale);
  a.q = stage_as(hbm, q, a.dtype), a.k = stage_as(hbm, k, a.dtype), a.v = stage_as(hbm, v, a.dtype);
  a.out = stage_as(hbm, out, a.dtype), a.dout = stage_as(hbm, dout, a.dtype);
  a.lse = stage_as(hbm, lse, DType::F32);
  int64_t bytes = q.numel() * static_cast<int64_t>(dtype_size(a.dtype));
  a.dq = hbm.place(bytes), a.dk = hbm.place(bytes), a.dv = hbm.place(bytes);
  a.scratch = hbm.place(compiler::attention_scratch_bytes(a, true));
  run(Kernel::AttentionBackward, compiler::attention_backward_program(chip(), a));
  fetch_as(dq, a.dq, a.dtype);
  fetch_as(dk, a.dk, a.dtype);
  fetch_as(dv, a.dv, a.dtype);
}

}  // namespace tessera
