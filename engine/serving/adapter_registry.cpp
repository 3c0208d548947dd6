#include "engine/serving/adapter_registry.h"

#include <algorithm>
#include <stdexcept>

#include "parklock.h"

namespace parklock::engine {

AdapterRegistry::AdapterRegistry() { PARKLOCK_SET_NAME(&mu_.native(), "adapters"); }

uint64_t AdapterRegistry::add(const std::string& name,
                              std::shared_ptr<const LoraAdapter> adapter) {
  if (name.empty()) throw std::invalid_argument("adapter name must not be empty");
  if (!adapter) throw std::invalid_argument("adapter '" + name + "' is null");
  WriterLock lock(mu_);
  const uint64_t id = next_id_++;
  by_name_[name] = AdapterRef{std::move(adapter), id};
  return id;
}

uint64_t AdapterRegistry::load(const std::string& name, const std::string& path,
                               const ModelConfig& config) {
  // Read the file before taking the lock: lookups must not wait on disk.
  return add(name, LoraAdapter::load(path, config));
}

bool AdapterRegistry::remove(const std::string& name) {
  std::shared_ptr<const LoraAdapter> dropped;  // freed after the unlock
  WriterLock lock(mu_);
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return false;
  dropped = std::move(it->second.adapter);
  by_name_.erase(it);
  return true;
}

std::optional<AdapterRef> AdapterRegistry::find(const std::string& name) const {
  ReaderLock lock(mu_);
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> AdapterRegistry::names() const {
  std::vector<std::string> out;
  {
    ReaderLock lock(mu_);
    out.reserve(by_name_.size());
    for (const auto& [name, ref] : by_name_) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace parklock::engine
