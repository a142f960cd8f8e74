// The launch cache of a device (see launch_cache.h).
#include "runtime/launch_cache.h"

namespace tessera::runtime {

std::shared_ptr<const LaunchCache::Entry> LaunchCache::find(const sim::ProgramFingerprint& key) const {
  std::lock_guard lock(mutex_);
  if (!enabled_) return nullptr;
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : it->second;
}

void LaunchCache::insert(const sim::ProgramFingerprint& key, std::shared_ptr<const Entry> entry) {
  std::lock_guard lock(mutex_);
  if (entries_.size() >= kMaxEntries) entries_.clear();
  entries_.insert_or_assign(key, std::move(entry));
}

void LaunchCache::set_enabled(bool enabled) {
  std::lock_guard lock(mutex_);
  enabled_ = enabled;
}

size_t LaunchCache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace tessera::runtime
