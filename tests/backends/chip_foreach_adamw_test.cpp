// The chip's multi-tensor AdamW beyond the kernel harness: one launch per distinct AdamWArgs for
// a whole list of parameter-sized tensors spanning many tiles and every core, bit for bit the
// per-tensor launches; and from the second step on the same program (elementwise program cache
// hit, its timing from the launch cache) whatever the step's learning rate and bias corrections.
#include "backends/chip/chip_backend.h"
#include "kernel_harness.h"

namespace tessera::test {
namespace {

ChipBackend& chip() { return *chip_backend("chip:t1"); }

// Parameter-like sizes: a large matrix (many tiles on every core), odd lengths, one element.
const std::vector<int64_t> kSizes = {300001, 8193, 1, 4097, 0, 768, 3};

struct Lists {
  std::vector<View> params, grads, ms, vs;
};

Lists make_lists(Workspace& ws, uint64_t seed) {
  Lists l;
  for (size_t i = 0; i < kSizes.size(); ++i) {
    int64_t n = kSizes[i];
    l.params.push_back(ws.output(DType::F32, {n}, random_values(n, seed + i)));
    l.grads.push_back(ws.input(DType::F32, {n}, random_values(n, seed + 20 + i, -0.5f, 0.5f)));
    l.ms.push_back(ws.output(DType::F32, {n}, std::vector<float>(n, 0.0f)));
    l.vs.push_back(ws.output(DType::F32, {n}, std::vector<float>(n, 0.0f)));
  }
  return l;
}

// nanoGPT's grouping: decay on the matrices (here the even tensors), none on the others.
std::vector<AdamWArgs> step_args(int64_t step, float lr) {
  std::vector<AdamWArgs> args;
  for (size_t i = 0; i < kSizes.size(); ++i) args.push_back({lr, 0.9f, 0.95f, 1e-8f, i % 2 == 0 ? 0.1f : 0.0f, step});
  return args;
}

TEST(ChipForeachAdamWTest, ClaimsTheKernelInF32Only) {
  EXPECT_TRUE(chip().supports(Kernel::AdamWMany, DType::F32));
  EXPECT_FALSE(chip().supports(Kernel::AdamWMany, DType::BF16));
}

TEST(ChipForeachAdamWTest, IsOneLaunchPerDistinctArgsAndThePerTensorValues) {
  Workspace ws(chip());
  Lists many = make_lists(ws, 200), singles = make_lists(ws, 200);
  std::vector<AdamWArgs> args = step_args(1, 1e-3f);
  int64_t before = chip().totals().launches;
  chip().adamw_many(many.params, many.grads, many.ms, many.vs, args);
  EXPECT_EQ(chip().totals().launches - before, 2);  // decayed and not decayed
  before = chip().totals().launches;
  for (size_t i = 0; i < kSizes.size(); ++i)
    chip().adamw(singles.params[i], singles.grads[i], singles.ms[i], singles.vs[i], args[i]);
  EXPECT_EQ(chip().totals().launches - before, 6);  // one per tensor with elements
  for (size_t i = 0; i < kSizes.size(); ++i) {
    EXPECT_EQ(ws.read(many.params[i]), ws.read(singles.params[i])) << "param " << i;
    EXPECT_EQ(ws.read(many.ms[i]), ws.read(singles.ms[i])) << "m " << i;
    EXPECT_EQ(ws.read(many.vs[i]), ws.read(singles.vs[i])) << "v " << i;
  }
  // One args for all: one launch.
  for (AdamWArgs& a : args) a.weight_decay = 0.01f;
  before = chip().totals().launches;
  chip().adamw_many(many.params, many.grads, many.ms, many.vs, args);
  EXPECT_EQ(chip().totals().launches - before, 1);
  ws.expect_intact("adamw_many");
}

TEST(ChipForeachAdamWTest, LaterStepsReuseTheFirstStepsPrograms) {
  Workspace ws(chip());
  Lists l = make_lists(ws, 300);
  const compiler::ElementwiseProgramCache& cache = chip().elementwise_programs();
  chip().adamw_many(l.params, l.grads, l.ms, l.vs, step_args(1, 1e-3f));
  int64_t misses = cache.misses(), hits = cache.hits();
  size_t known = chip().device().launch_cache().size();
  std::vector<float> first = ws.read(l.params[0]);
  // Another step, learning rate and bias corrections: new constants, the same programs.
  chip().adamw_many(l.params, l.grads, l.ms, l.vs, step_args(2, 5e-4f));
  EXPECT_EQ(cache.misses(), misses);
  EXPECT_EQ(cache.hits(), hits + 2);
  EXPECT_EQ(chip().device().launch_cache().size(), known);  // timing known: no full simulation
  EXPECT_NE(ws.read(l.params[0]), first);                   // and the step did update
}

}  // namespace
}  // namespace tessera::test
