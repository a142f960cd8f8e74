// The elementwise program cache (see elementwise_cache.h).
#include "compiler/elementwise_cache.h"

#include <algorithm>

#include "compiler/program_key.h"

namespace tessera::compiler {

namespace {

// Everything of a plan that its program depends on.
std::string plan_key(const ElementwisePlan& p) {
  static_assert(field_count<ElementwisePlan>() == 10, "ElementwisePlan changed: name every field in plan_key");
  static_assert(field_count<ElementwisePlan::Input>() == 4, "ElementwisePlan::Input changed: name it in plan_key");
  static_assert(field_count<ElementwisePlan::Op>() == 13, "ElementwisePlan::Op changed: name it in plan_key");
  static_assert(field_count<ElementwisePlan::Output>() == 4, "ElementwisePlan::Output changed: name it in plan_key");
  static_assert(field_count<ElementwisePlan::Segment>() == 3, "ElementwisePlan::Segment changed: name it in plan_key");
  ProgramKey k;
  k << p.rows << p.cols << p.whole_rows << p.inputs.size() << p.constants.size() << p.temporaries
    << p.row_temporaries << p.ops.size() << p.outputs.size();
  for (const ElementwisePlan::Input& in : p.inputs) k << in.hbm_addr << in.layout << in.row_stride << in.dtype;
  for (const ElementwisePlan::Op& op : p.ops)
    k << op.kind << op.dst << op.a << op.b << op.per_row << op.col_b << op.reduce << op.unary << op.binary << op.to
      << op.value << op.seed << op.counter;
  for (const ElementwisePlan::Output& out : p.outputs) k << out.slot << out.hbm_addr << out.dtype << out.per_row;
  k << p.segments.size();
  for (const ElementwisePlan::Segment& segment : p.segments) {
    k << segment.cols;
    for (int64_t addr : segment.input_addrs) k << addr;
    for (int64_t addr : segment.output_addrs) k << addr;
  }
  return k.take();
}

// Whether the plan draws random numbers: its seed and counter are in the program's text, which
// then never repeats.
bool draws_random(const ElementwisePlan& p) {
  return std::any_of(p.ops.begin(), p.ops.end(),
                     [](const ElementwisePlan::Op& op) { return op.kind == ElementwisePlan::Op::Kind::Random; });
}

}  // namespace

ElementwiseProgramCache::Entry ElementwiseProgramCache::build(const arch::ChipSpec& chip, const ElementwisePlan& plan) {
  Entry entry{elementwise_program(chip, plan), {}};
  entry.fingerprint = sim::fingerprint(entry.built.program);
  return entry;
}

ElementwiseProgramCache::Launch ElementwiseProgramCache::program(const arch::ChipSpec& chip,
                                                                 const ElementwisePlan& plan) {
  bool kept = !draws_random(plan);
  std::string key = kept ? plan_key(plan) : std::string();
  std::lock_guard lock(mutex_);
  const Entry* entry = nullptr;
  if (!kept) {
    ++misses_;
    once_ = build(chip, plan);
    entry = &once_;
  } else if (auto it = built_.find(key); it != built_.end()) {
    ++hits_;
    entry = &it->second;
  } else {
    ++misses_;
    if (built_.size() >= kMaxEntries) built_.clear();
    entry = &built_.emplace(std::move(key), build(chip, plan)).first->second;
  }
  return {{entry->built.program, entry->fingerprint}, entry->built.constants_addr, elementwise_arguments(plan)};
}

int64_t ElementwiseProgramCache::hits() const {
  std::lock_guard lock(mutex_);
  return hits_;
}

int64_t ElementwiseProgramCache::misses() const {
  std::lock_guard lock(mutex_);
  return misses_;
}

}  // namespace tessera::compiler
