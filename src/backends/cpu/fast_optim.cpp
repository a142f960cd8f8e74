// Optimiser steps of the fast CPU backend: AdamW and SGD with momentum, 16 lanes at a time
// over all threads, with the reference's expression order (PyTorch semantics).
#include <omp.h>

#include <cmath>

#include "backends/cpu/fast_backend.h"
#include "backends/cpu/fast_simd.h"

namespace tessera {
namespace {

bool all_f32_contiguous(std::initializer_list<const View*> views) {
  int64_t n = (*views.begin())->numel();
  for (const View* v : views)
    if (!fast::is_f32(*v) || !v->is_contiguous() || v->numel() != n) return false;
  return true;
}

// Runs body(i, mask) over [0, n) in 16-lane steps, split over threads for large n.
template <typename Body>
void for_lanes(int64_t n, Body body) {
  int64_t steps = (n + 15) / 16;
#pragma omp parallel for schedule(static) if (n >= fast::kParallelMin)
  for (int64_t s = 0; s < steps; ++s) body(s * 16, fast::tail_mask(n - s * 16));
}

}  // namespace

void FastBackend::adamw(const View& param, const View& grad, const View& m, const View& v,
                        const AdamWArgs& args) {
  if (!all_f32_contiguous({&param, &grad, &m, &v}) || args.step < 1)
    return ReferenceBackend::adamw(param, grad, m, v, args);
  float bc1 = static_cast<float>(1.0 - std::pow(static_cast<double>(args.beta1), args.step));
  float bc2 = static_cast<float>(1.0 - std::pow(static_cast<double>(args.beta2), args.step));
  float *ps = param.as<float>(), *ms = m.as<float>(), *vs = v.as<float>();
  const float* gs = grad.as<float>();
  __m512 decay = _mm512_set1_ps(args.lr * args.weight_decay), lr = _mm512_set1_ps(args.lr);
  __m512 b1 = _mm512_set1_ps(args.beta1), one_b1 = _mm512_set1_ps(1.0f - args.beta1);
  __m512 b2 = _mm512_set1_ps(args.beta2), one_b2 = _mm512_set1_ps(1.0f - args.beta2);
  __m512 c1 = _mm512_set1_ps(bc1), c2 = _mm512_set1_ps(bc2), eps = _mm512_set1_ps(args.eps);
  for_lanes(param.numel(), [&](int64_t i, __mmask16 k) {
    __m512 g = fast::load(gs + i, k), p = fast::load(ps + i, k);
    p = _mm512_fnmadd_ps(decay, p, p);
    __m512 mi = _mm512_fmadd_ps(b1, fast::load(ms + i, k), _mm512_mul_ps(one_b1, g));
    __m512 vi = _mm512_fmadd_ps(b2, fast::load(vs + i, k), _mm512_mul_ps(_mm512_mul_ps(one_b2, g), g));
    __m512 m_hat = _mm512_div_ps(mi, c1), v_hat = _mm512_div_ps(vi, c2);
    __m512 step = _mm512_div_ps(_mm512_mul_ps(lr, m_hat), _mm512_add_ps(_mm512_sqrt_ps(v_hat), eps));
    fast::store(ps + i, _mm512_sub_ps(p, step), k);
    fast::store(ms + i, mi, k);
    fast::store(vs + i, vi, k);
  });
}

void FastBackend::sgd_momentum(const View& param, const View& grad, const View& velocity, float lr,
                               float momentum, float weight_decay) {
  if (!all_f32_contiguous({&param, &grad, &velocity}))
    return ReferenceBackend::sgd_momentum(param, grad, velocity, lr, momentum, weight_decay);
  float *ps = param.as<float>(), *vs = velocity.as<float>();
  const float* gs = grad.as<float>();
  __m512 mu = _mm512_set1_ps(momentum), wd = _mm512_set1_ps(weight_decay), rate = _mm512_set1_ps(lr);
  for_lanes(param.numel(), [&](int64_t i, __mmask16 k) {
    __m512 p = fast::load(ps + i, k);
    __m512 vi = _mm512_fmadd_ps(wd, p, _mm512_fmadd_ps(mu, fast::load(vs + i, k), fast::load(gs + i, k)));
    fast::store(vs + i, vi, k);
    fast::store(ps + i, _mm512_fnmadd_ps(rate, vi, p), k);
  });
}

}  // namespace tessera
