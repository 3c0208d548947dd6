#include "engine/server/model_router.h"

#include <algorithm>
#include <mutex>
#include <stdexcept>

#include "parklock.h"

namespace parklock::engine::server {

ModelRouter::ModelRouter() { PARKLOCK_SET_NAME(&mu_, "model_router"); }

void ModelRouter::add_model(const std::string& name, std::unique_ptr<ModelBackend> model,
                            const EngineConfig& config) {
  if (name.empty()) throw std::invalid_argument("a model name must not be empty");
  if (find(name)) throw std::invalid_argument("model name '" + name + "' is given twice");
  auto served = std::make_shared<ServedModel>();
  served->name = name;
  served->config = config;
  served->model = std::move(model);
  served->engine = std::make_unique<Engine>(*served->model, config);
  std::unique_lock lock(mu_);
  if (routes_.count(name)) throw std::invalid_argument("model name '" + name + "' is given twice");
  routes_[name] = Route{name, served, ""};
  models_.push_back(std::move(served));
}

void ModelRouter::add_lora(const std::string& name, const std::string& base,
                           const std::string& path) {
  const std::optional<Route> base_route = find(base);
  if (!base_route || !base_route->adapter.empty())
    throw std::invalid_argument("LoRA '" + name + "': no base model named '" + base + "'");
  if (find(name)) throw std::invalid_argument("model name '" + name + "' is given twice");
  ServedModel& served = *base_route->base;
  if (!served.model->supports_lora())
    throw std::invalid_argument("LoRA '" + name + "': model '" + base + "' runs on the " +
                                std::string(served.model->name()) +
                                " backend, which cannot apply LoRA adapters (serve it with --device cpu)");
  // Read the file before taking the lock: lookups must not wait on disk.
  served.engine->adapters().load(name, path, served.model->config());
  std::unique_lock lock(mu_);
  routes_[name] = Route{name, base_route->base, name};
}

std::optional<Route> ModelRouter::find(const std::string& name) const {
  std::shared_lock lock(mu_);
  const auto it = routes_.find(name);
  if (it == routes_.end()) return std::nullopt;
  return it->second;
}

std::vector<Route> ModelRouter::routes() const {
  std::vector<Route> out;
  {
    std::shared_lock lock(mu_);
    for (const auto& [name, route] : routes_) out.push_back(route);
  }
  std::sort(out.begin(), out.end(), [](const Route& a, const Route& b) { return a.name < b.name; });
  return out;
}

std::vector<ModelLoad> ModelRouter::loads() const {
  std::vector<std::shared_ptr<ServedModel>> models;
  {
    std::shared_lock lock(mu_);
    models = models_;
  }
  std::vector<ModelLoad> out;
  for (const auto& m : models) {
    const EngineStats s = m->engine->stats();
    out.push_back({.model_name = m->name,
                   .running = s.running,
                   .waiting = s.waiting,
                   .kv_cache_usage = s.kv.total > 0
                                         ? static_cast<double>(s.kv.total - s.kv.free) / s.kv.total
                                         : 0.0});
  }
  return out;
}

void ModelRouter::clear() {
  std::vector<std::shared_ptr<ServedModel>> models;
  {
    std::unique_lock lock(mu_);
    routes_.clear();
    models.swap(models_);
  }
  // Engines stop here, outside the lock (their destructors join threads).
  models.clear();
}

}  // namespace parklock::engine::server
