// The program cache (compiler/program_cache.h) and the key of each builder it serves: a second
// launch with the same key reuses the program and its fingerprint without building it; every
// field of a builder's arguments changes its key (so that no launch reuses a program built for
// other arguments); equal keys come from arguments that build identical programs.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "arch/chip_loader.h"
#include "compiler/attention_program.h"
#include "compiler/sum_squares_program.h"
#include "compiler/conv_program.h"
#include "compiler/embedding_program.h"
#include "compiler/pool_program.h"
#include "compiler/program_cache.h"
#include "compiler/program_key.h"
#include "compiler/scatter_program.h"
#include "compiler/tile_program.h"
#include "sim/program_fingerprint.h"

namespace tessera::compiler {
namespace {

arch::ChipSpec chip() { return arch::load_chip("t1", std::vector<std::string>{"cores=4"}); }

template <typename Args>
using Change = std::pair<const char*, std::function<void(Args&)>>;

DType other(DType d) { return d == DType::F32 ? DType::BF16 : DType::F32; }

// (a) the key of `base`; (b) each change, one field each (`fields` in all), makes another key;
// (c) `make` called again gives arguments of the same key, and build() of both is one program.
template <typename Args, typename Key, typename Build>
void expect_key_names_every_field(const std::function<Args()>& make, Key key, Build build,
                                  const std::vector<Change<Args>>& changes, size_t fields) {
  Args base = make();
  std::string base_key = key(base);
  EXPECT_FALSE(base_key.empty());
  EXPECT_EQ(changes.size(), fields) << "a change per field";
  for (const auto& [field, change] : changes) {
    Args changed = base;
    change(changed);
    EXPECT_NE(key(changed), base_key) << field << " is not in the key";
  }
  Args again = make();
  ASSERT_EQ(key(again), base_key);
  EXPECT_EQ(sim::fingerprint(build(again)), sim::fingerprint(build(base)));
}

TEST(ProgramCacheTest, ASecondLaunchWithTheSameKeyReusesTheProgramWithoutBuildingIt) {
  arch::ChipSpec t1 = chip();
  auto reduce = [&](int64_t rows) { return reduce_program(t1, isa::ReduceFn::Sum, 0, 0x10000, 1, rows, 64); };
  ProgramCache cache;
  int builds = 0;
  auto build = [&] { return ++builds, reduce(100); };
  CachedProgram first = cache.program(t1, "reduce", reduce_key(isa::ReduceFn::Sum, 0, 0x10000, 1, 100, 64), build);
  EXPECT_EQ(first.fingerprint, sim::fingerprint(reduce(100)));
  CachedProgram second = cache.program(t1, "reduce", reduce_key(isa::ReduceFn::Sum, 0, 0x10000, 1, 100, 64), build);
  EXPECT_EQ(&second.program, &first.program);
  EXPECT_EQ(second.fingerprint, first.fingerprint);
  EXPECT_EQ(builds, 1);
  EXPECT_EQ(cache.misses(), 1);
  EXPECT_EQ(cache.hits(), 1);

  // Other arguments, another builder's name or another chip: built again.
  auto rows_200 = [&] { return ++builds, reduce(200); };
  CachedProgram other_rows =
      cache.program(t1, "reduce", reduce_key(isa::ReduceFn::Sum, 0, 0x10000, 1, 200, 64), rows_200);
  EXPECT_EQ(other_rows.fingerprint, sim::fingerprint(reduce(200)));
  cache.program(t1, "reduce2", reduce_key(isa::ReduceFn::Sum, 0, 0x10000, 1, 100, 64), build);
  arch::ChipSpec eight = arch::load_chip("t1", std::vector<std::string>{"cores=8"});
  cache.program(eight, "reduce", reduce_key(isa::ReduceFn::Sum, 0, 0x10000, 1, 100, 64), build);
  EXPECT_EQ(builds, 4);
  EXPECT_EQ(cache.misses(), 4);
}

TEST(ProgramCacheTest, BeyondItsBoundTheCacheStartsAgain) {
  arch::ChipSpec t1 = chip();
  ProgramCache cache;
  auto empty = [] { return isa::Program{}; };
  for (size_t i = 0; i <= ProgramCache::kMaxEntries; ++i) cache.program(t1, "empty", std::to_string(i), empty);
  EXPECT_EQ(cache.misses(), static_cast<int64_t>(ProgramCache::kMaxEntries) + 1);
  cache.program(t1, "empty", std::to_string(ProgramCache::kMaxEntries), empty);  // kept after the clear
  EXPECT_EQ(cache.hits(), 1);
  cache.program(t1, "empty", "0", empty);  // dropped by the clear
  EXPECT_EQ(cache.misses(), static_cast<int64_t>(ProgramCache::kMaxEntries) + 2);
}

AttentionProgram attention_args() {
  AttentionProgram a;
  a.heads = 3, a.seq = 80, a.head_dim = 32, a.scale = 0.17f, a.dtype = DType::BF16, a.max_block = 32;
  int64_t tensor = a.heads * a.seq * a.head_dim * 2, next = 0;
  for (int64_t* addr : {&a.q, &a.k, &a.v, &a.out, &a.dout, &a.dq, &a.dk, &a.dv}) *addr = next, next += tensor;
  a.lse = next, a.scratch = next + a.heads * a.seq * 4;
  return a;
}

std::vector<Change<AttentionProgram>> attention_changes() {
  using A = AttentionProgram;
  return {{"heads", [](A& a) { ++a.heads; }},        {"seq", [](A& a) { ++a.seq; }},
          {"head_dim", [](A& a) { ++a.head_dim; }},  {"scale", [](A& a) { a.scale *= 2; }},
          {"dtype", [](A& a) { a.dtype = other(a.dtype); }}, {"q", [](A& a) { a.q += 256; }},
          {"k", [](A& a) { a.k += 256; }},           {"v", [](A& a) { a.v += 256; }},
          {"out", [](A& a) { a.out += 256; }},       {"lse", [](A& a) { a.lse += 256; }},
          {"dout", [](A& a) { a.dout += 256; }},     {"dq", [](A& a) { a.dq += 256; }},
          {"dk", [](A& a) { a.dk += 256; }},         {"dv", [](A& a) { a.dv += 256; }},
          {"scratch", [](A& a) { a.scratch += 256; }}, {"max_block", [](A& a) { a.max_block /= 2; }},
          {"heads_per_batch", [](A& a) { a.heads_per_batch = 1; }},
          // Each array's strides; the components take turns, as the key writes all three of each.
          {"q_strides", [](A& a) { a.q_strides.batch = 7; }},     {"k_strides", [](A& a) { a.k_strides.head = 7; }},
          {"v_strides", [](A& a) { a.v_strides.row = 7; }},       {"out_strides", [](A& a) { a.out_strides.batch = 7; }},
          {"dout_strides", [](A& a) { a.dout_strides.head = 7; }}, {"dq_strides", [](A& a) { a.dq_strides.row = 7; }},
          {"dk_strides", [](A& a) { a.dk_strides.batch = 7; }},   {"dv_strides", [](A& a) { a.dv_strides.head = 7; }}};
}

TEST(ProgramKeyTest, AttentionForwardKeyNamesEveryField) {
  arch::ChipSpec t1 = chip();
  expect_key_names_every_field<AttentionProgram>(
      attention_args, attention_key, [&](const AttentionProgram& a) { return attention_forward_program(t1, a); },
      attention_changes(), field_count<AttentionProgram>());
}

TEST(ProgramKeyTest, AttentionBackwardKeyNamesEveryField) {
  arch::ChipSpec t1 = chip();
  expect_key_names_every_field<AttentionProgram>(
      attention_args, attention_key, [&](const AttentionProgram& a) { return attention_backward_program(t1, a); },
      attention_changes(), field_count<AttentionProgram>());
}

// A conv builder's arguments with its tiling.
template <typename Conv>
struct ConvArgs {
  Conv c;
  ConvTiling t;
};

ConvGeometry conv_geometry() {
  ConvGeometry g;
  g.batch = 2, g.channels = 3, g.height = 8, g.width = 8, g.out_channels = 4, g.kernel_h = 3, g.kernel_w = 3;
  g.out_height = 8, g.out_width = 8, g.stride = 1, g.padding = 1;
  return g;
}

template <typename Conv>
std::vector<Change<ConvArgs<Conv>>> geometry_and_tiling_changes() {
  using A = ConvArgs<Conv>;
  return {{"batch", [](A& a) { ++a.c.g.batch; }},           {"channels", [](A& a) { ++a.c.g.channels; }},
          {"height", [](A& a) { ++a.c.g.height; }},         {"width", [](A& a) { ++a.c.g.width; }},
          {"out_channels", [](A& a) { ++a.c.g.out_channels; }}, {"kernel_h", [](A& a) { ++a.c.g.kernel_h; }},
          {"kernel_w", [](A& a) { ++a.c.g.kernel_w; }},     {"out_height", [](A& a) { ++a.c.g.out_height; }},
          {"out_width", [](A& a) { ++a.c.g.out_width; }},   {"stride", [](A& a) { ++a.c.g.stride; }},
          {"padding", [](A& a) { ++a.c.g.padding; }},       {"block", [](A& a) { ++a.t.block; }},
          {"resident", [](A& a) { a.t.resident = !a.t.resident; }},
          {"dtype", [](A& a) { a.c.dtype = other(a.c.dtype); }}};
}

TEST(ProgramKeyTest, ConvForwardKeyNamesEveryField) {
  arch::ChipSpec t1 = chip();
  using A = ConvArgs<ConvForward>;
  auto make = [&] {
    A a;
    a.c.g = conv_geometry(), a.c.dtype = DType::F32;
    a.c.x = 0, a.c.weight = 0x10000, a.c.indices = 0x20000, a.c.y = 0x40000, a.c.bias = 0x60000;
    a.t = conv_forward_tiling(t1, a.c.g, a.c.dtype);
    return a;
  };
  std::vector<Change<A>> changes = geometry_and_tiling_changes<ConvForward>();
  changes.insert(changes.end(), {{"x", [](A& a) { a.c.x += 256; }},
                                 {"weight", [](A& a) { a.c.weight += 256; }},
                                 {"indices", [](A& a) { a.c.indices += 256; }},
                                 {"y", [](A& a) { a.c.y += 256; }},
                                 {"bias", [](A& a) { a.c.bias = -1; }}});
  expect_key_names_every_field<A>(
      make, [](const A& a) { return conv_forward_key(a.c, a.t); },
      [&](const A& a) { return conv_forward_program(t1, a.c, a.t); }, changes,
      field_count<ConvForward>() - 1 + field_count<ConvGeometry>() + field_count<ConvTiling>());
}

TEST(ProgramKeyTest, ConvBackwardKeyNamesEveryField) {
  arch::ChipSpec t1 = chip();
  using A = ConvArgs<ConvBackward>;
  auto make = [&] {
    A a;
    a.c.g = conv_geometry(), a.c.dtype = DType::BF16;
    a.c.x = 0, a.c.weight = 0x10000, a.c.dy = 0x20000, a.c.indices = 0x30000, a.c.dx = 0x50000;
    a.c.grads = 0x60000, a.c.sums = 0x70000;
    a.t = conv_backward_tiling(t1, a.c.g, a.c.dtype);
    return a;
  };
  std::vector<Change<A>> changes = geometry_and_tiling_changes<ConvBackward>();
  changes.insert(changes.end(), {{"x", [](A& a) { a.c.x += 256; }},
                                 {"weight", [](A& a) { a.c.weight += 256; }},
                                 {"dy", [](A& a) { a.c.dy += 256; }},
                                 {"indices", [](A& a) { a.c.indices += 256; }},
                                 {"dx", [](A& a) { a.c.dx += 256; }},
                                 {"grads", [](A& a) { a.c.grads += 256; }},
                                 {"sums", [](A& a) { a.c.sums += 256; }}});
  expect_key_names_every_field<A>(
      make, [](const A& a) { return conv_backward_key(a.c, a.t); },
      [&](const A& a) { return conv_backward_program(t1, a.c, a.t); }, changes,
      field_count<ConvBackward>() - 1 + field_count<ConvGeometry>() + field_count<ConvTiling>());
}

template <typename Pool>
std::vector<Change<Pool>> pool_geometry_changes() {
  return {{"planes", [](Pool& p) { ++p.g.planes; }},       {"height", [](Pool& p) { ++p.g.height; }},
          {"width", [](Pool& p) { ++p.g.width; }},         {"kernel", [](Pool& p) { ++p.g.kernel; }},
          {"stride", [](Pool& p) { ++p.g.stride; }},       {"out_height", [](Pool& p) { ++p.g.out_height; }},
          {"out_width", [](Pool& p) { ++p.g.out_width; }}, {"dtype", [](Pool& p) { p.dtype = other(p.dtype); }}};
}

TEST(ProgramKeyTest, MaxPoolKeyNamesEveryField) {
  arch::ChipSpec t1 = chip();
  auto make = [] {
    PoolForward p;
    p.g.planes = 6, p.g.height = 8, p.g.width = 8, p.g.kernel = 2, p.g.stride = 2, p.g.out_height = 4;
    p.g.out_width = 4, p.dtype = DType::F32;
    p.x = 0, p.positions = 0x10000, p.positions_f32 = 0x11000, p.y = 0x12000, p.indices = 0x14000;
    return p;
  };
  std::vector<Change<PoolForward>> changes = pool_geometry_changes<PoolForward>();
  changes.insert(changes.end(), {{"x", [](PoolForward& p) { p.x += 256; }},
                                 {"positions", [](PoolForward& p) { p.positions += 256; }},
                                 {"positions_f32", [](PoolForward& p) { p.positions_f32 += 256; }},
                                 {"y", [](PoolForward& p) { p.y += 256; }},
                                 {"indices", [](PoolForward& p) { p.indices += 256; }}});
  expect_key_names_every_field<PoolForward>(
      make, max_pool_key, [&](const PoolForward& p) { return max_pool_program(t1, p); }, changes,
      field_count<PoolForward>() - 1 + field_count<PoolGeometry>());
}

TEST(ProgramKeyTest, MaxPoolBackwardKeyNamesEveryField) {
  arch::ChipSpec t1 = chip();
  auto make = [] {
    PoolBackward p;
    p.g.planes = 6, p.g.height = 8, p.g.width = 8, p.g.out_height = 1, p.g.out_width = 16, p.dtype = DType::BF16;
    p.dy = 0, p.indices = 0x10000, p.dx = 0x20000;
    return p;
  };
  std::vector<Change<PoolBackward>> changes = pool_geometry_changes<PoolBackward>();
  changes.insert(changes.end(), {{"dy", [](PoolBackward& p) { p.dy += 256; }},
                                 {"indices", [](PoolBackward& p) { p.indices += 256; }},
                                 {"dx", [](PoolBackward& p) { p.dx += 256; }}});
  expect_key_names_every_field<PoolBackward>(
      make, max_pool_backward_key, [&](const PoolBackward& p) { return max_pool_backward_program(t1, p); }, changes,
      field_count<PoolBackward>() - 1 + field_count<PoolGeometry>());
}

// The plan of ids {3, 7, 3, 40000, 41000, 12} into a (50000, 16) table, its blocks those with
// ids: three, as the table is larger than the scratchpad takes whole.
EmbeddingPlan embedding_args(const arch::ChipSpec& chip, bool backward) {
  std::vector<int64_t> ids = {3, 7, 3, 40000, 41000, 12};
  EmbeddingPlan p;
  p.vocab = 50000, p.channels = 16, p.dtype = DType::F32;
  plan_embedding(chip, p, static_cast<int64_t>(ids.size()), backward);
  for (int64_t v0 = 0; v0 < p.vocab; v0 += p.block_rows) {
    EmbeddingPlan::Block b;
    b.v0 = v0, b.rows = std::min(p.block_rows, p.vocab - v0), b.first = 0;
    for (const EmbeddingPlan::Block& earlier : p.blocks) b.first += static_cast<int64_t>(earlier.positions.size());
    for (size_t i = 0; i < ids.size(); ++i)
      if (ids[i] >= v0 && ids[i] < v0 + b.rows) b.positions.push_back(static_cast<int64_t>(i));
    if (!b.positions.empty()) p.blocks.push_back(std::move(b));
  }
  p.table = 0, p.rows = 0x10000, p.indices = 0x20000;
  EXPECT_GE(p.blocks.size(), 2u) << "the changes below edit a second block";
  return p;
}

std::vector<Change<EmbeddingPlan>> embedding_changes() {
  using P = EmbeddingPlan;
  return {{"vocab", [](P& p) { ++p.vocab; }},           {"channels", [](P& p) { ++p.channels; }},
          {"dtype", [](P& p) { p.dtype = other(p.dtype); }}, {"block_rows", [](P& p) { ++p.block_rows; }},
          {"chunk", [](P& p) { ++p.chunk; }},           {"blocks", [](P& p) { p.blocks.pop_back(); }},
          {"table", [](P& p) { p.table += 256; }},      {"rows", [](P& p) { p.rows += 256; }},
          {"indices", [](P& p) { p.indices += 256; }},  {"partials", [](P& p) { p.partials += 256; }},  {"block v0", [](P& p) { ++p.blocks[0].v0; }},
          {"block rows", [](P& p) { ++p.blocks[0].rows; }}, {"block first", [](P& p) { ++p.blocks[1].first; }},
          {"block positions", [](P& p) { ++p.blocks[0].positions.back(); }}};
}

TEST(ProgramKeyTest, EmbeddingKeyNamesEveryField) {
  arch::ChipSpec t1 = chip();
  for (bool backward : {false, true}) {
    SCOPED_TRACE(backward ? "backward" : "forward");
    expect_key_names_every_field<EmbeddingPlan>(
        [&] { return embedding_args(t1, backward); }, embedding_key,
        [&](const EmbeddingPlan& p) { return backward ? embedding_backward_program(t1, p) : embedding_program(t1, p); },
        // The blocks: their number (a field of the plan), then each field of a block.
        embedding_changes(), field_count<EmbeddingPlan>() + field_count<EmbeddingPlan::Block>());
  }
}

// scatter_along_program's arguments but the chip.
struct ScatterArgs {
  ScatterAlongTiling tiling;
  int64_t outer = 4, n = 10, inner = 6;
  DType dtype = DType::F32;
  int64_t values = 0, positions = 0x1000, out = 0x2000;
};

TEST(ProgramKeyTest, ScatterAlongKeyNamesEveryArgument) {
  arch::ChipSpec t1 = chip();
  auto make = [&] {
    ScatterArgs a;
    a.tiling = scatter_along_tiling(t1, a.outer, a.n, a.inner, a.dtype);
    return a;
  };
  auto key = [](const ScatterArgs& a) {
    return scatter_along_key(a.tiling, a.outer, a.n, a.inner, a.dtype, a.values, a.positions, a.out);
  };
  auto build = [&](const ScatterArgs& a) {
    return scatter_along_program(t1, a.tiling, a.outer, a.n, a.inner, a.dtype, a.values, a.positions, a.out);
  };
  using A = ScatterArgs;
  std::vector<Change<A>> changes = {
      {"planes", [](A& a) { ++a.tiling.planes; }}, {"cols", [](A& a) { ++a.tiling.cols; }},
      {"outer", [](A& a) { ++a.outer; }},          {"n", [](A& a) { ++a.n; }},
      {"inner", [](A& a) { ++a.inner; }},          {"dtype", [](A& a) { a.dtype = other(a.dtype); }},
      {"values", [](A& a) { a.values += 256; }},   {"positions", [](A& a) { a.positions += 256; }},
      {"out", [](A& a) { a.out += 256; }}};
  expect_key_names_every_field<A>(make, key, build, changes, field_count<ScatterArgs>() - 1 + 2);
}

// reduce_program's arguments but the chip.
struct ReduceArgs {
  isa::ReduceFn fn = isa::ReduceFn::Sum;
  int64_t x = 0, out = 0x10000, outer = 2, n = 30, inner = 20;
  DType x_dtype = DType::BF16, out_dtype = DType::F32;
  bool accumulate = false;
};

TEST(ProgramKeyTest, ReduceKeyNamesEveryArgument) {
  arch::ChipSpec t1 = chip();
  auto key = [](const ReduceArgs& a) {
    return reduce_key(a.fn, a.x, a.out, a.outer, a.n, a.inner, a.x_dtype, a.out_dtype, a.accumulate);
  };
  auto build = [&](const ReduceArgs& a) {
    return reduce_program(t1, a.fn, a.x, a.out, a.outer, a.n, a.inner, a.x_dtype, a.out_dtype, a.accumulate);
  };
  using A = ReduceArgs;
  std::vector<Change<A>> changes = {
      {"fn", [](A& a) { a.fn = isa::ReduceFn::Max; }}, {"x", [](A& a) { a.x += 256; }},
      {"out", [](A& a) { a.out += 256; }},              {"outer", [](A& a) { ++a.outer; }},
      {"n", [](A& a) { ++a.n; }},                       {"inner", [](A& a) { ++a.inner; }},
      {"x_dtype", [](A& a) { a.x_dtype = other(a.x_dtype); }},
      {"out_dtype", [](A& a) { a.out_dtype = other(a.out_dtype); }},
      {"accumulate", [](A& a) { a.accumulate = true; }}};
  expect_key_names_every_field<A>([] { return ReduceArgs{}; }, key, build, changes, field_count<ReduceArgs>());
}

// sum_squares_program's arguments but the chip: two segments, each field of each.
struct SumSquaresArgs {
  std::vector<SumSquaresSegment> segments{{0, DType::F32, 3000}, {0x20000, DType::BF16, 700}};
  int64_t partials = 0x40000, out = 0x50000;
};

TEST(ProgramKeyTest, SumSquaresKeyNamesEveryArgument) {
  arch::ChipSpec t1 = chip();
  auto key = [](const SumSquaresArgs& a) { return sum_squares_key(a.segments, a.partials, a.out); };
  auto build = [&](const SumSquaresArgs& a) { return sum_squares_program(t1, a.segments, a.partials, a.out); };
  using A = SumSquaresArgs;
  std::vector<Change<A>> changes = {
      {"segments (one more)", [](A& a) { a.segments.push_back({0x30000, DType::F32, 10}); }},
      {"segments[0].addr", [](A& a) { a.segments[0].addr += 256; }},
      {"segments[1].dtype", [](A& a) { a.segments[1].dtype = DType::F32; }},
      {"segments[1].n", [](A& a) { ++a.segments[1].n; }},
      {"partials", [](A& a) { a.partials += 256; }},
      {"out", [](A& a) { a.out += 256; }}};
  // The segment list's length and the three fields of a segment, then the two addresses.
  expect_key_names_every_field<A>([] { return SumSquaresArgs{}; }, key, build, changes,
                                  1 + field_count<SumSquaresSegment>() + 2);
}

}  // namespace
}  // namespace tessera::compiler
