// Named LoRA adapters that requests can ask for, changeable while serving.
//
// A request resolves its adapter name once, at submission, and its sequence
// keeps the returned shared_ptr: removing or replacing an adapter never
// disturbs a sequence that is already running with it; the old weights are
// freed when the last such sequence ends.
//
// Each add() gets a fresh id. The KV prefix cache mixes the id into its
// block hashes, since an adapter changes K and V: blocks computed under one
// adapter (or an older version of the same name) are never reused for
// another.
//
// Thread safety: lookups take the "adapters" shared_mutex shared (many
// submitters at once); add/remove take it exclusively.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/model/lora_adapter.h"
#include "engine/model/model_config.h"
#include "engine/serving/thread_annotations.h"

namespace parklock::engine {

struct AdapterRef {
  std::shared_ptr<const LoraAdapter> adapter;  // never null
  uint64_t id = 0;                             // unique per add(), > 0
};

class AdapterRegistry {
 public:
  AdapterRegistry();
  AdapterRegistry(const AdapterRegistry&) = delete;
  AdapterRegistry& operator=(const AdapterRegistry&) = delete;

  // Adds or replaces `name`. Returns the new entry's id. Throws
  // std::invalid_argument for an empty name or a null adapter.
  uint64_t add(const std::string& name, std::shared_ptr<const LoraAdapter> adapter)
      EXCLUDES(mu_);

  // Loads a safetensors adapter for `config` and adds it under `name`.
  uint64_t load(const std::string& name, const std::string& path, const ModelConfig& config)
      EXCLUDES(mu_);

  // Removes `name`; false when absent. Running sequences keep their copy.
  bool remove(const std::string& name) EXCLUDES(mu_);

  std::optional<AdapterRef> find(const std::string& name) const EXCLUDES(mu_);
  std::vector<std::string> names() const EXCLUDES(mu_);

 private:
  mutable AnnotatedSharedMutex mu_;  // "adapters"
  std::unordered_map<std::string, AdapterRef> by_name_ GUARDED_BY(mu_);
  uint64_t next_id_ GUARDED_BY(mu_) = 1;
};

}  // namespace parklock::engine
