// The program cache (see program_cache.h).
#include "compiler/program_cache.h"

#include "compiler/chip_key.h"

namespace tessera::compiler {

namespace {

int64_t instruction_count(const isa::Program& program) {
  int64_t n = 0;
  for (const auto& core : program.cores) n += static_cast<int64_t>(core.size());
  return n;
}

}  // namespace

CachedProgram ProgramCache::program(const arch::ChipSpec& chip, std::string_view op, const std::string& arguments,
                                    const std::function<isa::Program()>& build) {
  std::string key;
  key.append(op).append(1, '\0').append(chip_key(chip)).append(1, '\0').append(arguments);
  std::lock_guard lock(mutex_);
  if (auto it = built_.find(key); it != built_.end()) {
    ++hits_;
    return {it->second.program, it->second.fingerprint};
  }
  ++misses_;
  isa::Program program = build();
  int64_t size = instruction_count(program);
  if (built_.size() >= kMaxEntries || instructions_ + size > kMaxInstructions) {
    built_.clear();
    instructions_ = 0;
  }
  instructions_ += size;
  sim::ProgramFingerprint fingerprint = sim::fingerprint(program);
  const Entry& entry = built_.emplace(std::move(key), Entry{std::move(program), fingerprint}).first->second;
  return {entry.program, entry.fingerprint};
}

int64_t ProgramCache::hits() const {
  std::lock_guard lock(mutex_);
  return hits_;
}

int64_t ProgramCache::misses() const {
  std::lock_guard lock(mutex_);
  return misses_;
}

}  // namespace tessera::compiler
