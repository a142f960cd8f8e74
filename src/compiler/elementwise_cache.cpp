// The elementwise program cache (see elementwise_cache.h).
#include "compiler/elementwise_cache.h"

#include <cstring>

namespace tessera::compiler {

namespace {

// Appends each value's bytes to a key.
class KeyWriter {
 public:
  template <typename T>
  KeyWriter& operator<<(const T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    key_.append(reinterpret_cast<const char*>(&value), sizeof(T));
    return *this;
  }
  std::string take() { return std::move(key_); }

 private:
  std::string key_;
};

// Everything of a plan that its program depends on.
std::string plan_key(const ElementwisePlan& p) {
  KeyWriter k;
  k << p.rows << p.cols << p.whole_rows << p.inputs.size() << p.constants.size() << p.temporaries
    << p.row_temporaries << p.ops.size() << p.outputs.size();
  for (const ElementwisePlan::Input& in : p.inputs) k << in.hbm_addr << in.layout << in.row_stride << in.dtype;
  for (const ElementwisePlan::Op& op : p.ops)
    k << op.kind << op.dst << op.a << op.b << op.per_row << op.col_b << op.reduce << op.unary << op.binary << op.to
      << op.value << op.seed << op.counter;
  for (const ElementwisePlan::Output& out : p.outputs) k << out.slot << out.hbm_addr << out.dtype << out.per_row;
  return k.take();
}

}  // namespace

ElementwiseProgramCache::Launch ElementwiseProgramCache::program(const arch::ChipSpec& chip,
                                                                 const ElementwisePlan& plan) {
  std::string key = plan_key(plan);
  std::lock_guard lock(mutex_);
  auto it = built_.find(key);
  if (it == built_.end()) {
    ++misses_;
    if (built_.size() >= kMaxEntries) built_.clear();
    Entry entry{elementwise_program(chip, plan), {}};
    entry.fingerprint = sim::fingerprint(entry.built.program);
    it = built_.emplace(std::move(key), std::move(entry)).first;
  } else {
    ++hits_;
  }
  std::vector<uint8_t> constants(plan.constants.size() * 4);
  if (!constants.empty()) std::memcpy(constants.data(), plan.constants.data(), constants.size());
  return {{it->second.built.program, it->second.fingerprint}, it->second.built.constants_addr, std::move(constants)};
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
