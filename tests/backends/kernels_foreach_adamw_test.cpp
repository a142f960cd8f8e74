// Kernel harness, multi-tensor AdamW: adamw_many on every registered backend, bit for bit
// against the backend's own per-tensor adamw and close to cpu-ref, over lists of tensors of
// different sizes (0 elements included) with mixed weight decay and learning rates, in every
// float dtype the backend claims, over two steps; and lists with nothing to update.
#include "backends/backend.h"
#include "kernel_harness.h"

namespace tessera::test {
namespace {

class ForeachAdamW : public ::testing::TestWithParam<std::string> {
 protected:
  Backend& tested() { return backend(GetParam()); }
};

// Sizes of the parameters in one list: one element, 0 elements, a few tiles, odd lengths.
const std::vector<int64_t> kSizes = {1, 33, 0, 1000, 7, 65, 20000, 128};

// One tensor's operands: param and grad in the dtype under test, the moments in `state`.
struct Operands {
  std::vector<View> params, grads, ms, vs;
};

Operands list_operands(Workspace& ws, DType dtype, DType state) {
  Operands o;
  for (size_t i = 0; i < kSizes.size(); ++i) {
    int64_t n = kSizes[i];
    o.params.push_back(ws.output(dtype, {n}, random_values(n, 80 + i, -2.0f, 2.0f)));
    o.grads.push_back(ws.input(dtype, {n}, random_values(n, 90 + i, -1.0f, 1.0f)));
    o.ms.push_back(ws.output(state, {n}, random_values(n, 100 + i, -0.1f, 0.1f)));
    o.vs.push_back(ws.output(state, {n}, random_values(n, 110 + i, 0.0f, 0.01f)));
  }
  return o;
}

// Per tensor: decay on matrices only (0 for every other tensor), one tensor at another rate.
std::vector<AdamWArgs> list_args(int64_t step) {
  std::vector<AdamWArgs> args;
  for (size_t i = 0; i < kSizes.size(); ++i) {
    AdamWArgs a{1e-2f, 0.9f, 0.95f, 1e-8f, i % 2 == 0 ? 0.1f : 0.0f, step};
    if (i == 3) a.lr = 3e-3f;
    args.push_back(a);
  }
  return args;
}

std::vector<uint8_t> bytes_of(Backend& b, const View& v) {
  std::vector<uint8_t> bytes(static_cast<size_t>(v.numel()) * dtype_size(v.dtype));
  b.copy_to_host(bytes.data(), v.data, bytes.size());
  return bytes;
}

TEST_P(ForeachAdamW, IsThePerTensorAdamWBitForBit) {
  for (DType dtype : kFloatDTypes) {
    if (!tested().supports(Kernel::AdamWMany, dtype)) continue;
    std::vector<DType> states = {DType::F32};
    if (dtype != DType::F32) states.push_back(dtype);
    for (DType state : states) {
      std::string what = "adamw_many " + std::string(dtype_name(dtype)) + ", moments " + std::string(dtype_name(state));
      Workspace ws(tested());
      Operands many = list_operands(ws, dtype, state), singles = list_operands(ws, dtype, state);
      for (int64_t step : {int64_t{1}, int64_t{2}}) {
        std::vector<AdamWArgs> args = list_args(step);
        ws.backend().adamw_many(many.params, many.grads, many.ms, many.vs, args);
        for (size_t i = 0; i < kSizes.size(); ++i)
          ws.backend().adamw(singles.params[i], singles.grads[i], singles.ms[i], singles.vs[i], args[i]);
      }
      for (size_t i = 0; i < kSizes.size(); ++i) {
        EXPECT_EQ(bytes_of(ws.backend(), many.params[i]), bytes_of(ws.backend(), singles.params[i]))
            << what << ": param " << i;
        EXPECT_EQ(bytes_of(ws.backend(), many.ms[i]), bytes_of(ws.backend(), singles.ms[i])) << what << ": m " << i;
        EXPECT_EQ(bytes_of(ws.backend(), many.vs[i]), bytes_of(ws.backend(), singles.vs[i])) << what << ": v " << i;
      }
      // The parameters did move (a kernel that wrote nothing would pass the comparison).
      EXPECT_NE(ws.read(many.params[6]), rounded(random_values(20000, 86, -2.0f, 2.0f), dtype)) << what;
      ws.expect_intact(what);
    }
  }
}

TEST_P(ForeachAdamW, MatchesTheReference) {
  for (DType dtype : kFloatDTypes) {
    if (!tested().supports(Kernel::AdamWMany, dtype)) continue;
    expect_matches_reference(
        tested(),
        [&](Workspace& ws) {
          Operands o = list_operands(ws, dtype, DType::F32);
          ws.backend().adamw_many(o.params, o.grads, o.ms, o.vs, list_args(7));
          std::vector<View> outs = o.params;
          outs.insert(outs.end(), o.ms.begin(), o.ms.end());
          outs.insert(outs.end(), o.vs.begin(), o.vs.end());
          return outs;
        },
        storage_tolerance(dtype), "adamw_many " + std::string(dtype_name(dtype)));
  }
}

TEST_P(ForeachAdamW, NothingToUpdateWritesNothing) {
  Workspace ws(tested());
  ws.backend().adamw_many({}, {}, {}, {}, {});
  std::vector<View> p, g, m, v;
  for (std::vector<View>* list : {&p, &g, &m, &v}) list->push_back(ws.input(DType::F32, {3, 0}, {}));
  ws.backend().adamw_many(p, g, m, v, std::vector<AdamWArgs>(1));
  ws.expect_intact("adamw_many of nothing");
}

INSTANTIATE_TEST_SUITE_P(AllBackends, ForeachAdamW, ::testing::ValuesIn(computing_backend_names()),
                         backend_test_name);

}  // namespace
}  // namespace tessera::test
