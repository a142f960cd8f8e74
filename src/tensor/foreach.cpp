// Multi-tensor operations (see foreach.h).
#include "tensor/foreach.h"

#include <string>
#include <utility>

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

}  // namespace tessera
