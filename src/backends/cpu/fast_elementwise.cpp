// Elementwise kernels of the fast CPU backend: copy (memcpy, permutes, f32 <-> bf16), fill,
// binary with broadcast, unary and its gradient, affine and dropout masks. Every element is
// computed independently, so any split over threads gives the same bits.
#include <omp.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "backends/cpu/fast_backend.h"
#include "backends/cpu/fast_simd.h"
#include "base/dtype.h"
#include "base/random.h"

namespace tessera {
namespace {

using fast::bf16;

// A strided loop nest with size-1 dimensions dropped and mergeable neighbours merged; the last
// dimension is the innermost. Up to three operands share the sizes.
struct Nest {
  std::vector<int64_t> size;
  std::vector<std::array<int64_t, 3>> stride;
  int64_t rows() const {
    int64_t r = 1;
    for (size_t i = 0; i + 1 < size.size(); ++i) r *= size[i];
    return r;
  }
  int64_t inner() const { return size.empty() ? 1 : size.back(); }
  // Offsets of each operand at the start of outer row `row`.
  std::array<int64_t, 3> row_offsets(int64_t row) const {
    std::array<int64_t, 3> off{0, 0, 0};
    for (size_t d = size.size() - 1; d-- > 0;) {
      int64_t i = row % size[d];
      row /= size[d];
      for (int o = 0; o < 3; ++o) off[o] += i * stride[d][o];
    }
    return off;
  }
};

Nest make_nest(const Shape& shape, const Strides& s0, const Strides& s1, const Strides& s2) {
  Nest nest;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    std::array<int64_t, 3> st{s0[d], s1[d], s2[d]};
    if (!nest.size.empty()) {
      auto& prev = nest.stride.back();
      bool merge = true;
      for (int o = 0; o < 3; ++o) merge = merge && prev[o] == st[o] * shape[d];
      if (merge) {
        nest.size.back() *= shape[d];
        nest.stride.back() = st;
        continue;
      }
    }
    nest.size.push_back(shape[d]);
    nest.stride.push_back(st);
  }
  if (nest.size.empty()) {
    nest.size.push_back(1);
    nest.stride.push_back({1, 1, 1});
  }
  return nest;
}

// Runs body(row) over the outer rows of a nest, threaded when the work is large.
template <typename Body>
void for_rows(const Nest& nest, Body body) {
  int64_t rows = nest.rows();
  bool parallel = rows > 1 && rows * nest.inner() >= fast::kParallelMin;
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t r = 0; r < rows; ++r) body(r);
}

// Runs body(begin, end) over [0, n) in pieces of 16-element multiples, threaded when large.
template <typename Body>
void for_range(int64_t n, Body body) {
  if (n < fast::kParallelMin) {
    body(int64_t{0}, n);
    return;
  }
  int64_t pieces = std::min<int64_t>(64, n / (fast::kParallelMin / 4));
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < pieces; ++p) {
    int64_t lo = (n * p / pieces) / 16 * 16, hi = p + 1 == pieces ? n : (n * (p + 1) / pieces) / 16 * 16;
    body(lo, hi);
  }
}

// out[i] = f(in[i]) over a contiguous range, 16 lanes at a time.
template <typename TIn, typename TOut, typename F>
void map1(const TIn* in, TOut* out, int64_t n, F f) {
  for_range(n, [&](int64_t lo, int64_t hi) {
    int64_t i = lo;
    for (; i + 16 <= hi; i += 16) fast::store(out + i, f(fast::load(in + i)));
    if (i < hi) {
      __mmask16 m = fast::tail_mask(hi - i);
      fast::store(out + i, f(fast::load(in + i, m)), m);
    }
  });
}

template <typename T, typename F>
void map2(const T* a, const T* b, T* out, int64_t n, F f) {
  for_range(n, [&](int64_t lo, int64_t hi) {
    int64_t i = lo;
    for (; i + 16 <= hi; i += 16) fast::store(out + i, f(fast::load(a + i), fast::load(b + i)));
    if (i < hi) {
      __mmask16 m = fast::tail_mask(hi - i);
      fast::store(out + i, f(fast::load(a + i, m), fast::load(b + i, m)), m);
    }
  });
}

template <typename F>
void dispatch_binary(BinaryOp op, F&& f) {
  switch (op) {
    case BinaryOp::Add: return f([](__m512 x, __m512 y) { return _mm512_add_ps(x, y); });
    case BinaryOp::Sub: return f([](__m512 x, __m512 y) { return _mm512_sub_ps(x, y); });
    case BinaryOp::Mul: return f([](__m512 x, __m512 y) { return _mm512_mul_ps(x, y); });
    case BinaryOp::Div: return f([](__m512 x, __m512 y) { return _mm512_div_ps(x, y); });
  }
}

template <typename T, typename Op>
void binary_nest(const Nest& nest, const T* a, const T* b, T* out, Op op) {
  int64_t inner = nest.inner();
  int64_t sa = nest.stride.back()[0], sb = nest.stride.back()[1];
  for_rows(nest, [&](int64_t r) {
    auto off = nest.row_offsets(r);
    const T* pa = a + off[0];
    const T* pb = b + off[1];
    T* po = out + r * inner;
    if ((sa == 1 || sa == 0) && (sb == 1 || sb == 0)) {
      __m512 va = sa == 0 ? fast::load(pa, 1) : __m512{}, vb = sb == 0 ? fast::load(pb, 1) : __m512{};
      if (sa == 0) va = _mm512_broadcastss_ps(_mm512_castps512_ps128(va));
      if (sb == 0) vb = _mm512_broadcastss_ps(_mm512_castps512_ps128(vb));
      int64_t i = 0;
      for (; i < inner; i += 16) {
        __mmask16 m = fast::tail_mask(inner - i);
        __m512 x = sa ? fast::load(pa + i, m) : va;
        __m512 y = sb ? fast::load(pb + i, m) : vb;
        fast::store(po + i, op(x, y), m);
      }
      return;
    }
    alignas(64) float xa[16], xb[16];
    for (int64_t i = 0; i < inner; i += 16) {
      int64_t len = std::min<int64_t>(16, inner - i);
      for (int64_t j = 0; j < len; ++j) {
        xa[j] = fast::load(pa + (i + j) * sa, 1)[0];
        xb[j] = fast::load(pb + (i + j) * sb, 1)[0];
      }
      fast::store(po + i, op(_mm512_load_ps(xa), _mm512_load_ps(xb)), fast::tail_mask(len));
    }
  });
}

// A same-dtype strided copy, moving raw elements of sizeof(T) bytes.
template <typename T>
void copy_nest(const Nest& nest, const T* src, T* dst) {
  int64_t inner = nest.inner();
  int64_t ss = nest.stride.back()[0], ds = nest.stride.back()[1];
  for_rows(nest, [&](int64_t r) {
    auto off = nest.row_offsets(r);
    const T* s = src + off[0];
    T* d = dst + off[1];
    if (ss == 1 && ds == 1) {
      std::memcpy(d, s, static_cast<size_t>(inner) * sizeof(T));
      return;
    }
    for (int64_t i = 0; i < inner; ++i) d[i * ds] = s[i * ss];
  });
}

template <typename T>
bool unary_typed(UnaryOp op, const T* x, T* out, int64_t n) {
  switch (op) {
    case UnaryOp::Relu:
      map1(x, out, n, [](__m512 v) { return _mm512_max_ps(v, _mm512_setzero_ps()); });
      return true;
    case UnaryOp::Gelu: map1(x, out, n, fast::gelu); return true;
    case UnaryOp::Exp: map1(x, out, n, [](__m512 v) { return fast::exp(v); }); return true;
    case UnaryOp::Neg:
      map1(x, out, n, [](__m512 v) { return _mm512_xor_ps(v, _mm512_set1_ps(-0.0f)); });
      return true;
    case UnaryOp::Sqrt: map1(x, out, n, [](__m512 v) { return _mm512_sqrt_ps(v); }); return true;
    case UnaryOp::Log: return false;
  }
  return false;
}

template <typename T>
bool unary_backward_typed(UnaryOp op, const T* x, const T* dy, T* dx, int64_t n) {
  if (op == UnaryOp::Relu) {
    map2(x, dy, dx, n, [](__m512 v, __m512 g) {
      return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_GT_OQ), g);
    });
    return true;
  }
  if (op == UnaryOp::Gelu) {
    map2(x, dy, dx, n, fast::gelu_grad);
    return true;
  }
  return false;
}

bool same_contiguous(std::initializer_list<const View*> views) {
  DType dtype = (*views.begin())->dtype;
  int64_t n = (*views.begin())->numel();
  for (const View* v : views)
    if (v->dtype != dtype || !fast::is_f32_or_bf16(*v) || !v->is_contiguous() || v->numel() != n)
      return false;
  return true;
}

}  // namespace

namespace fast {

void convert(const void* src, DType src_dtype, void* dst, DType dst_dtype, int64_t n) {
  if (src_dtype == DType::BF16 && dst_dtype == DType::F32) {
    map1(static_cast<const bf16*>(src), static_cast<float*>(dst), n, [](__m512 v) { return v; });
  } else if (src_dtype == DType::F32 && dst_dtype == DType::BF16) {
    map1(static_cast<const float*>(src), static_cast<bf16*>(dst), n, [](__m512 v) { return v; });
  } else if (src_dtype == dst_dtype) {
    std::memcpy(dst, src, static_cast<size_t>(n) * dtype_size(src_dtype));
  } else {
    convert_elements(src, src_dtype, dst, dst_dtype, static_cast<size_t>(n));
  }
}

}  // namespace fast

void FastBackend::copy(const View& src, const View& dst) {
  int64_t n = dst.numel();
  if (src.is_contiguous() && dst.is_contiguous() &&
      (src.dtype == dst.dtype || (fast::is_f32_or_bf16(src) && fast::is_f32_or_bf16(dst)))) {
    if (src.dtype != dst.dtype) return fast::convert(src.data, src.dtype, dst.data, dst.dtype, n);
    size_t bytes = static_cast<size_t>(n) * dtype_size(src.dtype);
    for_range(static_cast<int64_t>(bytes), [&](int64_t lo, int64_t hi) {
      std::memcpy(static_cast<char*>(dst.data) + lo, static_cast<const char*>(src.data) + lo,
                  static_cast<size_t>(hi - lo));
    });
    return;
  }
  bool ranks_ok = src.strides.size() == dst.shape.size() && dst.strides.size() == dst.shape.size();
  if (src.dtype != dst.dtype || n == 0 || !ranks_ok) return ReferenceBackend::copy(src, dst);
  Strides none(dst.shape.size(), 0);
  Nest nest = make_nest(dst.shape, src.strides, dst.strides, none);
  switch (dtype_size(src.dtype)) {
    case 1: return copy_nest(nest, src.as<uint8_t>(), dst.as<uint8_t>());
    case 2: return copy_nest(nest, src.as<uint16_t>(), dst.as<uint16_t>());
    case 4: return copy_nest(nest, src.as<uint32_t>(), dst.as<uint32_t>());
    case 8: return copy_nest(nest, src.as<uint64_t>(), dst.as<uint64_t>());
  }
  ReferenceBackend::copy(src, dst);
}

void FastBackend::fill(const View& dst, double value) {
  size_t size = dtype_size(dst.dtype);
  if (!dst.is_contiguous() || size > 8) return ReferenceBackend::fill(dst, value);
  // The reference kernel converts the value; every element then gets its bytes.
  alignas(8) unsigned char element[8] = {};
  View one{element, dst.dtype, {1}, {1}};
  ReferenceBackend::fill(one, value);
  int64_t n = dst.numel();
  auto* out = static_cast<unsigned char*>(dst.data);
  for_range(n, [&](int64_t lo, int64_t hi) {
    if (size == 4) {
      uint32_t bits;
      std::memcpy(&bits, element, 4);
      std::fill(reinterpret_cast<uint32_t*>(out) + lo, reinterpret_cast<uint32_t*>(out) + hi, bits);
      return;
    }
    for (int64_t i = lo; i < hi; ++i) std::memcpy(out + i * size, element, size);
  });
}

void FastBackend::binary(BinaryOp op, const View& a, const View& b, const View& out) {
  bool types_ok = a.dtype == out.dtype && b.dtype == out.dtype && fast::is_f32_or_bf16(out);
  bool ranks_ok = a.strides.size() == out.shape.size() && b.strides.size() == out.shape.size();
  if (!types_ok || !ranks_ok || !out.is_contiguous() || out.numel() == 0)
    return ReferenceBackend::binary(op, a, b, out);
  Nest nest = make_nest(out.shape, a.strides, b.strides, out.strides);
  dispatch_binary(op, [&](auto f) {
    if (out.dtype == DType::F32)
      binary_nest(nest, a.as<float>(), b.as<float>(), out.as<float>(), f);
    else
      binary_nest(nest, a.as<bf16>(), b.as<bf16>(), out.as<bf16>(), f);
  });
}

void FastBackend::unary(UnaryOp op, const View& x, const View& out) {
  bool done = false;
  if (same_contiguous({&x, &out})) {
    done = x.dtype == DType::F32 ? unary_typed(op, x.as<float>(), out.as<float>(), x.numel())
                                 : unary_typed(op, x.as<bf16>(), out.as<bf16>(), x.numel());
  }
  if (!done) ReferenceBackend::unary(op, x, out);
}

void FastBackend::unary_backward(UnaryOp op, const View& x, const View& grad_out,
                                 const View& grad_in) {
  bool done = false;
  if (same_contiguous({&x, &grad_out, &grad_in})) {
    int64_t n = x.numel();
    done = x.dtype == DType::F32
               ? unary_backward_typed(op, x.as<float>(), grad_out.as<float>(), grad_in.as<float>(), n)
               : unary_backward_typed(op, x.as<bf16>(), grad_out.as<bf16>(), grad_in.as<bf16>(), n);
  }
  if (!done) ReferenceBackend::unary_backward(op, x, grad_out, grad_in);
}

void FastBackend::affine(const View& x, const View& out, float scale, float shift) {
  if (!same_contiguous({&x, &out})) return ReferenceBackend::affine(x, out, scale, shift);
  __m512 s = _mm512_set1_ps(scale), t = _mm512_set1_ps(shift);
  auto f = [&](__m512 v) { return _mm512_fmadd_ps(v, s, t); };
  if (x.dtype == DType::F32)
    map1(x.as<float>(), out.as<float>(), x.numel(), f);
  else
    map1(x.as<bf16>(), out.as<bf16>(), x.numel(), f);
}

void FastBackend::dropout_mask(const View& mask, float p, uint64_t seed, uint64_t counter) {
  if (!fast::is_f32(mask) || !mask.is_contiguous())
    return ReferenceBackend::dropout_mask(mask, p, seed, counter);
  float keep = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
  float* out = mask.as<float>();
  for_range(mask.numel(), [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i)
      out[i] = random_uniform(seed, counter + static_cast<uint64_t>(i)) >= p ? keep : 0.0f;
  });
}

}  // namespace tessera
