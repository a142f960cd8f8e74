// The chip backend's causal attention kernels (see chip_backend.h): the flash-style programs of
// compiler/attention_program.h round f32 operands to bf16 on the chip, and the results come
// back in the outputs' dtype. The program reads or writes a (B, H, T, D) view whose D elements
// are contiguous (q, k and v as column blocks of a (B, T, 3C) projection, an output inside
// (B, T, C)) at its rows' strides, in the memory it spans (where it lies, or staged); other
// views are staged packed.
#include <cstring>
#include <optional>
#include <vector>

#include "backends/chip/chip_backend.h"
#include "backends/chip/chip_launch.h"
#include "compiler/attention_program.h"

namespace tessera {

namespace {

compiler::AttentionProgram attention_shape(const View& q, float scale) {
  compiler::AttentionProgram a;
  a.heads = q.shape[0] * q.shape[1], a.seq = q.shape[2], a.head_dim = q.shape[3];
  a.heads_per_batch = q.shape[1];
  a.scale = scale, a.dtype = q.dtype;
  return a;
}

// Whether the program can take `v` where it lies: not packed, in the program's dtype, its D
// elements contiguous and every stride non-negative.
bool strided_in_place(const View& v, DType dtype) {
  if (v.is_contiguous() || v.dtype != dtype || v.strides[3] != 1) return false;
  for (int64_t s : v.strides)
    if (s < 0) return false;
  return true;
}

// Elements from v's first to one past its last.
int64_t span_elements(const View& v) {
  int64_t last = 0;
  for (size_t i = 0; i < v.shape.size(); ++i) last += (v.shape[i] - 1) * v.strides[i];
  return last + 1;
}

compiler::HeadStrides head_strides(const View& v) { return {v.strides[0], v.strides[1], v.strides[2]}; }

// An output written in place: the rows the program stores in HBM at `addr` (the layout of dst)
// copied into dst after the run, and nothing between them.
struct InPlaceOutput {
  View dst;
  int64_t addr = 0;
};

// The helpers below take the kernel's launch (ChipBackend::Launch, private to the backend) as L.
template <typename L>
void fetch_rows(L& l, const InPlaceOutput& o) {
  const View& v = o.dst;
  auto es = static_cast<int64_t>(dtype_size(v.dtype));
  std::vector<uint8_t> span(static_cast<size_t>(span_elements(v) * es));
  l.fetch(span.data(), o.addr, static_cast<int64_t>(span.size()));
  auto* out = static_cast<uint8_t*>(v.data);
  for (int64_t b = 0; b < v.shape[0]; ++b)
    for (int64_t h = 0; h < v.shape[1]; ++h)
      for (int64_t t = 0; t < v.shape[2]; ++t) {
        int64_t at = (b * v.strides[0] + h * v.strides[1] + t * v.strides[2]) * es;
        std::memcpy(out + at, span.data() + at, static_cast<size_t>(v.shape[3] * es));
      }
}

// Stages an input: where it lies, or packed (strides all 0).
template <typename L>
int64_t stage_heads(L& l, const View& v, DType dtype, compiler::HeadStrides& strides) {
  if (!strided_in_place(v, dtype)) return l.stage_as(v, dtype);
  strides = head_strides(v);
  return l.stage(v.data, span_elements(v) * static_cast<int64_t>(dtype_size(dtype)));
}

// Room for an output: where it lies, or its rows at their strides in the workspace (added to
// `in_place`), or packed as a pending result.
template <typename L>
int64_t place_heads(L& l, const View& v, DType dtype, compiler::HeadStrides& strides,
                    std::vector<InPlaceOutput>& in_place) {
  if (!strided_in_place(v, dtype)) return l.result(v, dtype);
  strides = head_strides(v);
  int64_t bytes = span_elements(v) * static_cast<int64_t>(dtype_size(dtype));
  if (std::optional<int64_t> addr = l.write_in_place(v.data, bytes)) return *addr;
  int64_t addr = l.place(bytes);
  in_place.push_back({v, addr});
  return addr;
}

}  // namespace

void ChipBackend::attention(const View& q, const View& k, const View& v, const View& out, const View& lse,
                            float scale) {
  if (q.numel() == 0) return;
  Launch l(*this, Kernel::Attention);
  compiler::AttentionProgram a = attention_shape(q, scale);
  std::vector<InPlaceOutput> in_place;
  a.q = stage_heads(l, q, a.dtype, a.q_strides), a.k = stage_heads(l, k, a.dtype, a.k_strides);
  a.v = stage_heads(l, v, a.dtype, a.v_strides);
  a.out = place_heads(l, out, a.dtype, a.out_strides, in_place), a.lse = l.result(lse, DType::F32);
  a.scratch = l.place(compiler::attention_scratch_bytes(a, false));
  l.run(programs_.program(chip(), "attention_forward", compiler::attention_key(a),
                          [&] { return compiler::attention_forward_program(chip(), a); }));
  for (const InPlaceOutput& o : in_place) fetch_rows(l, o);
}

void ChipBackend::attention_backward(const View& q, const View& k, const View& v, const View& out, const View& lse,
                                     const View& dout, const View& dq, const View& dk, const View& dv, float scale) {
  if (q.numel() == 0) return;
  Launch l(*this, Kernel::AttentionBackward);
  compiler::AttentionProgram a = attention_shape(q, scale);
  std::vector<InPlaceOutput> in_place;
  a.q = stage_heads(l, q, a.dtype, a.q_strides), a.k = stage_heads(l, k, a.dtype, a.k_strides);
  a.v = stage_heads(l, v, a.dtype, a.v_strides), a.out = stage_heads(l, out, a.dtype, a.out_strides);
  a.dout = stage_heads(l, dout, a.dtype, a.dout_strides);
  a.lse = l.stage_as(lse, DType::F32);
  a.dq = place_heads(l, dq, a.dtype, a.dq_strides, in_place);
  a.dk = place_heads(l, dk, a.dtype, a.dk_strides, in_place);
  a.dv = place_heads(l, dv, a.dtype, a.dv_strides, in_place);
  a.scratch = l.place(compiler::attention_scratch_bytes(a, true));
  l.run(programs_.program(chip(), "attention_backward", compiler::attention_key(a),
                          [&] { return compiler::attention_backward_program(chip(), a); }));
  for (const InPlaceOutput& o : in_place) fetch_rows(l, o);
}

}  // namespace tessera
