// Multi-tensor operations (see foreach.h).
#include "tensor/foreach.h"

#include <string>
#include <unordered_map>
#include <utility>

#include "base/error.h"
#include "tensor/dispatch.h"
#include "tensor/op_helpers.h"

namespace tessera {

namespace {

// The contiguous defined tensors with their positions, grouped by the backend that runs `kernel`
// on them (the CPU fallback among them, dispatch.h), groups in order of first appearance.
struct Group {
  Backend* backend = nullptr;
  std::vector<size_t> positions;
  std::vector<Tensor> tensors;  // contiguous
  std::vector<View> views;
};

std::vector<Group> groups_of(const std::vector<Tensor>& xs, Kernel kernel, const char* op) {
  std::vector<Group> groups;
  for (size_t i = 0; i < xs.size(); ++i) {
    if (!xs[i].defined()) continue;
    detail::require_float(xs[i], op, ("tensor " + std::to_string(i)).c_str());
    Tensor c = xs[i].contiguous();
    Backend* b = &kernel_backend(c, kernel);
    size_t g = 0;
    while (g < groups.size() && groups[g].backend != b) ++g;
    if (g == groups.size()) groups.push_back({b, {}, {}, {}});
    groups[g].positions.push_back(i);
    groups[g].views.push_back(c.view());
    groups[g].tensors.push_back(std::move(c));
  }
  return groups;
}

}  // namespace

double foreach_sum_squares(const std::vector<Tensor>& xs) {
  double total = 0.0;
  for (const Group& g : groups_of(xs, Kernel::SumSquaresMany, "foreach_sum_squares"))
    total += g.backend->sum_squares_many(g.views);
  return total;
}

std::vector<Tensor> foreach_scale(const std::vector<Tensor>& xs, float factor) {
  std::vector<Tensor> outs(xs.size());
  for (const Group& g : groups_of(xs, Kernel::ScaleMany, "foreach_scale")) {
    std::vector<View> out_views;
    for (size_t k = 0; k < g.positions.size(); ++k) {
      Tensor& out = outs[g.positions[k]];
      out = detail::empty_like_shape(g.tensors[k], g.tensors[k].shape());
      out_views.push_back(out.view());
    }
    g.backend->scale_many(g.views, out_views, factor);
  }
  return outs;
}

void foreach_adamw(const std::vector<Tensor>& params, const std::vector<Tensor>& grads, const std::vector<Tensor>& ms,
                   const std::vector<Tensor>& vs, const std::vector<AdamWArgs>& args) {
  size_t n = params.size();
  if (grads.size() != n || ms.size() != n || vs.size() != n || args.size() != n)
    fail("foreach_adamw: lists of {} parameters, {} gradients, {} first and {} second moments, {} arguments: "
         "they must be of one length", n, grads.size(), ms.size(), vs.size(), args.size());
  // The views of each backend that runs AdamWMany, in order of first appearance.
  struct Lists {
    Backend* backend = nullptr;
    std::vector<View> params, grads, ms, vs;
    std::vector<AdamWArgs> args;
  };
  std::vector<Lists> groups;
  std::unordered_map<const void*, size_t> seen;  // the parameters' memory: each updated once
  for (size_t i = 0; i < n; ++i) {
    if (!grads[i].defined()) continue;
    std::string what = "parameter " + std::to_string(i);
    const std::pair<const Tensor*, const char*> operands[] = {
        {&params[i], "tensor"}, {&grads[i], "gradient"}, {&ms[i], "first moment"}, {&vs[i], "second moment"}};
    for (auto [t, role] : operands)
      if (!t->defined()) fail("foreach_adamw: the {} of {} is undefined", role, what);
    detail::require_float(params[i], "foreach_adamw", what.c_str());
    check_same_device("foreach_adamw", {&params[i], &grads[i], &ms[i], &vs[i]});
    for (auto [t, role] : operands) {
      if (t->shape() != params[i].shape())
        fail("foreach_adamw: the {} of {} has shape {}, the parameter {}", role, what, shape_str(t->shape()),
             shape_str(params[i].shape()));
      if (!t->is_contiguous()) fail("foreach_adamw: the {} of {} is not contiguous", role, what);
    }
    auto [first, fresh] = seen.emplace(params[i].view().data, i);
    if (!fresh) fail("foreach_adamw: {} is parameter {} again", what, first->second);
    Backend* b = &kernel_backend(params[i], Kernel::AdamWMany);
    size_t g = 0;
    while (g < groups.size() && groups[g].backend != b) ++g;
    if (g == groups.size()) groups.push_back({b, {}, {}, {}, {}, {}});
    groups[g].params.push_back(params[i].view());
    groups[g].grads.push_back(grads[i].view());
    groups[g].ms.push_back(ms[i].view());
    groups[g].vs.push_back(vs[i].view());
    groups[g].args.push_back(args[i]);
  }
  for (const Lists& g : groups) g.backend->adamw_many(g.params, g.grads, g.ms, g.vs, g.args);
}

}  // namespace tessera
