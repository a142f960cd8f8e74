// cpu-ref optimiser steps with PyTorch semantics: AdamW (decoupled weight decay, bias
// correction) and SGD with momentum.
#include <cmath>

#include "backends/cpu/reference_backend.h"
#include "base/error.h"

namespace tessera {

void ReferenceBackend::adamw(const View& param, const View& grad, const View& m, const View& v,
                             const AdamWArgs& args) {
  std::vector<float> ps = load_all(param), gs = load_all(grad), ms = load_all(m), vs = load_all(v);
  TS_ASSERT(ps.size() == gs.size() && ps.size() == ms.size() && ps.size() == vs.size());
  TS_ASSERT(args.step >= 1);
  float bias_correction1 =
      static_cast<float>(1.0 - std::pow(static_cast<double>(args.beta1), args.step));
  float bias_correction2 =
      static_cast<float>(1.0 - std::pow(static_cast<double>(args.beta2), args.step));
  for (size_t i = 0; i < ps.size(); ++i) {
    float g = gs[i];
    ps[i] -= args.lr * args.weight_decay * ps[i];
    ms[i] = args.beta1 * ms[i] + (1.0f - args.beta1) * g;
    vs[i] = args.beta2 * vs[i] + (1.0f - args.beta2) * g * g;
    float m_hat = ms[i] / bias_correction1;
    float v_hat = vs[i] / bias_correction2;
    ps[i] -= args.lr * m_hat / (std::sqrt(v_hat) + args.eps);
  }
  store_all(param, ps);
  store_all(m, ms);
  store_all(v, vs);
}

void ReferenceBackend::sgd_momentum(const View& param, const View& grad, const View& velocity,
                                    float lr, float momentum, float weight_decay) {
  std::vector<float> ps = load_all(param), gs = load_all(grad), vs = load_all(velocity);
  TS_ASSERT(ps.size() == gs.size() && ps.size() == vs.size());
  for (size_t i = 0; i < ps.size(); ++i) {
    vs[i] = momentum * vs[i] + gs[i] + weight_decay * ps[i];
    ps[i] -= lr * vs[i];
  }
  store_all(param, ps);
  store_all(velocity, vs);
}

}  // namespace tessera
