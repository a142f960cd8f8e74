// cpu-ref multi-tensor kernels (backend.h): the per-view kernels applied in list order.
#include "backends/cpu/reference_backend.h"
#include "base/error.h"

namespace tessera {

double ReferenceBackend::sum_squares_many(std::span<const View> xs) {
  double total = 0.0;
  for (const View& x : xs) total += sum_squares(x);
  return total;
}

void ReferenceBackend::scale_many(std::span<const View> xs, std::span<const View> outs, float factor) {
  TS_ASSERT(xs.size() == outs.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    TS_ASSERT(xs[i].shape == outs[i].shape && xs[i].dtype == outs[i].dtype);
    affine(xs[i], outs[i], factor, 0.0f);
  }
}

void ReferenceBackend::adamw_many(std::span<const View> params, std::span<const View> grads, std::span<const View> ms,
                                  std::span<const View> vs, std::span<const AdamWArgs> args) {
  size_t n = params.size();
  TS_ASSERT(grads.size() == n && ms.size() == n && vs.size() == n && args.size() == n);
  for (size_t i = 0; i < n; ++i) adamw(params[i], grads[i], ms[i], vs[i], args[i]);
}

}  // namespace tessera
