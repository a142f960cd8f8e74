// The chip backend's multi-tensor kernels (see chip_backend.h): a list of tensors in one launch,
// where the per-tensor kernels take one launch, and its overhead, each: sum_squares_many,
// scale_many and adamw_many.
#include <algorithm>
#include <cstring>
#include <iterator>
#include <map>
#include <tuple>
#include <vector>

#include "backends/chip/chip_backend.h"
#include "backends/chip/chip_launch.h"
#include "backends/chip/chip_plan_ops.h"
#include "base/error.h"
#include "compiler/sum_squares_program.h"

namespace tessera {

using chip_ops::Plan;

double ChipBackend::sum_squares_many(std::span<const View> xs) {
  int64_t total = 0;
  for (const View& x : xs) total += x.numel();
  if (total == 0) return 0.0;
  Launch l(*this, Kernel::SumSquaresMany);
  std::vector<compiler::SumSquaresSegment> segments;
  for (const View& x : xs)
    if (x.numel() > 0) segments.push_back({l.input(x, Plan::Layout::Full).hbm_addr, x.dtype, x.numel()});
  int64_t partials = l.place(compiler::sum_squares_partials_bytes(chip())), result = l.place(8);
  l.run(programs_.program(chip(), "sum_squares", compiler::sum_squares_key(segments, partials, result),
                          [&] { return compiler::sum_squares_program(chip(), segments, partials, result); }));
  float hi_lo[2];
  l.fetch(hi_lo, result, 8);
  return static_cast<double>(hi_lo[0]) + static_cast<double>(hi_lo[1]);
}

void ChipBackend::scale_many(std::span<const View> xs, std::span<const View> outs, float factor) {
  TS_ASSERT(xs.size() == outs.size());
  std::map<DType, std::vector<size_t>> by_dtype;  // the views of each dtype, in list order
  for (size_t i = 0; i < xs.size(); ++i) {
    TS_ASSERT(xs[i].shape == outs[i].shape && xs[i].dtype == outs[i].dtype);
    TS_ASSERT(xs[i].is_contiguous() && outs[i].is_contiguous());
    if (xs[i].numel() > 0) by_dtype[xs[i].dtype].push_back(i);
  }
  for (const auto& [dtype, members] : by_dtype) {
    auto es = static_cast<int64_t>(dtype_size(dtype));
    Launch l(*this, Kernel::ScaleMany);
    // As affine(x, out, factor, 0), over the views as one row of segments, each read and
    // written where it lies (updated, when out is x).
    Plan p;
    p.rows = 1;
    p.inputs = {{0, Plan::Layout::Full, 0, dtype}};
    p.constants = {factor, 0.0f};
    p.ops = {chip_ops::binary_op(0, 0, p.constant_slot(0), isa::BinaryFn::Mul),
             chip_ops::binary_op(0, 0, p.constant_slot(1), isa::BinaryFn::Add)};
    chip_ops::add_output(p, 0, 0, dtype);
    for (size_t i : members) {
      const View &x = xs[i], &out = outs[i];
      int64_t bytes = x.numel() * es, from = 0, to = 0;
      if (x.data == out.data)
        from = to = l.update(x, dtype);
      else
        from = l.stage(x.data, bytes), to = l.write_to(out.data, bytes);
      p.segments.push_back({x.numel(), {from}, {to}});
      p.cols += x.numel();
    }
    l.run(p);
  }
}

namespace {
// The arguments as a comparable tuple: equal tuples give one program the same constants.
auto adamw_key(const AdamWArgs& a) { return std::make_tuple(a.lr, a.beta1, a.beta2, a.eps, a.weight_decay, a.step); }
}  // namespace

void ChipBackend::adamw_many(std::span<const View> params, std::span<const View> grads, std::span<const View> ms,
                             std::span<const View> vs, std::span<const AdamWArgs> args) {
  size_t n = params.size();
  TS_ASSERT(grads.size() == n && ms.size() == n && vs.size() == n && args.size() == n);
  // The tensors of each distinct args, in list order; groups in order of first appearance.
  std::vector<std::vector<size_t>> groups;
  for (size_t i = 0; i < n; ++i) {
    TS_ASSERT(grads[i].shape == params[i].shape && ms[i].shape == params[i].shape && vs[i].shape == params[i].shape);
    TS_ASSERT(args[i].step >= 1);
    if (params[i].numel() == 0) continue;
    size_t g = 0;
    while (g < groups.size() && adamw_key(args[groups[g][0]]) != adamw_key(args[i])) ++g;
    if (g == groups.size()) groups.emplace_back();
    groups[g].push_back(i);
  }
  const std::span<const View> lists[4] = {params, grads, ms, vs};  // adamw_ops' slots 0 to 3
  const int updated[3] = {0, 2, 3};                                // param, m, v
  for (const std::vector<size_t>& members : groups) {
    Launch l(*this, Kernel::AdamWMany);
    // As adamw over the tensors as one row of segments: the same per-element ops, one program
    // for the group whatever the step (its scalars are kernel arguments). Param, m and v are
    // updated where they lie (each tile stored after its loads).
    Plan p;
    p.rows = 1;
    p.inputs.assign(4, {0, Plan::Layout::Full, 0});
    chip_ops::adamw_ops(p, args[members[0]]);
    for (int slot : updated) chip_ops::add_output(p, slot, 0, DType::F32);
    for (size_t i : members) {
      Plan::Segment segment{params[i].numel(), {}, {}};
      for (int slot = 0; slot < 4; ++slot) {
        bool written = std::find(std::begin(updated), std::end(updated), slot) != std::end(updated);
        const View& v = lists[slot][i];
        segment.input_addrs.push_back(written ? l.update(v, DType::F32) : l.stage_f32(v));
      }
      for (int slot : updated) segment.output_addrs.push_back(segment.input_addrs[static_cast<size_t>(slot)]);
      p.segments.push_back(std::move(segment));
      p.cols += params[i].numel();
    }
    l.run(p);
  }
}

}  // namespace tessera
