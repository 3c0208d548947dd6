// The models a server offers, by the name clients put in "model".
//
// A name is either a base model (its own backend and Engine) or a LoRA
// adapter on one, as in vLLM: requests for the adapter's name run on the
// base model's engine with that adapter. Names are added while the server
// starts (loading) and read by every request: the map is guarded by a
// std::shared_mutex ("model_router"), taken shared per lookup.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/model/model_backend.h"
#include "engine/serving/engine.h"
#include "engine/server/engine_metrics.h"

namespace parklock::engine::server {

// One base model and the engine that serves it (and its adapters).
struct ServedModel {
  std::string name;
  std::unique_ptr<ModelBackend> model;
  std::unique_ptr<Engine> engine;  // after `model`: destroyed first
  EngineConfig config;
  std::atomic<int> in_flight{0};  // requests admitted and not yet answered
};

// What a request's "model" resolves to.
struct Route {
  std::string name;                   // as the client wrote it
  std::shared_ptr<ServedModel> base;  // never null
  std::string adapter;                // registered adapter name; empty = base model
};

class ModelRouter {
 public:
  ModelRouter();
  ModelRouter(const ModelRouter&) = delete;
  ModelRouter& operator=(const ModelRouter&) = delete;

  // Starts an engine for `model` under `name`. Throws std::invalid_argument
  // for a name already taken.
  void add_model(const std::string& name, std::unique_ptr<ModelBackend> model, const EngineConfig& config);
  // Loads a LoRA adapter for base model `base` and serves it as `name`.
  void add_lora(const std::string& name, const std::string& base, const std::string& path);

  std::optional<Route> find(const std::string& name) const;
  std::vector<Route> routes() const;  // sorted by name
  std::vector<ModelLoad> loads() const;

  // Destroys the engines (cancelling what still runs); later lookups find nothing.
  void clear();

 private:
  mutable std::shared_mutex mu_;  // "model_router"
  std::unordered_map<std::string, Route> routes_;  // guarded by mu_
  std::vector<std::shared_ptr<ServedModel>> models_;  // guarded by mu_
};

}  // namespace parklock::engine::server
