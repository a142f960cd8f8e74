// The chip backend's dropout mask (see chip_backend.h): the vector engine draws each element's
// uniform number with vrandom at (seed, counter + its index), as cpu-ref's random_uniform does,
// and turns it into keep_scale or 0 with arithmetic only (the ISA has no comparison).
#include <cmath>

#include "backends/chip/chip_backend.h"
#include "backends/chip/chip_launch.h"
#include "backends/chip/chip_plan_ops.h"

namespace tessera {

void ChipBackend::dropout_mask(const View& mask, float p, uint64_t seed, uint64_t counter) {
  using namespace chip_ops;
  using F = isa::BinaryFn;
  int64_t n = mask.numel();
  if (n == 0) return;
  Launch l(*this, Kernel::DropoutMask);
  Plan plan;
  plan.rows = 1, plan.cols = n;  // one row: element e of the mask draws at counter + e
  float keep_scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;  // a scalar of the call, as cpu-ref computes it
  plan.constants = {p, std::ldexp(1.0f, 100), 1.0f, keep_scale};
  int P = plan.constant_slot(0), BIG = P + 1, ONE = P + 2, SCALE = P + 3;
  plan.temporaries = 1;
  int u = plan.temporary_slot(0);
  Op draw;
  draw.kind = OpKind::Random, draw.dst = u, draw.seed = seed, draw.counter = counter;
  // keep = min(relu((u - p) * 2^100 * 2^100 + 1), 1): 1 for u >= p (u - p = 0 gives 1; the
  // smallest positive difference, 2^-149, still reaches 1), 0 for u < p.
  plan.ops = {draw,
              binary_op(u, u, P, F::Sub),     binary_op(u, u, BIG, F::Mul),         binary_op(u, u, BIG, F::Mul),
              binary_op(u, u, ONE, F::Add),   unary_op(u, u, isa::UnaryFn::Relu),   binary_op(u, u, ONE, F::Min),
              binary_op(u, u, SCALE, F::Mul)};
  l.output(plan, u, mask);
  l.run(plan);
}

}  // namespace tessera
