#include "engine/model/loaded_model.h"

#include <memory>
#include <stdexcept>

#include "engine/model/safetensors.h"
#include "engine/model/synthetic_weights.h"

namespace parklock::engine {

LoadedModel LoadedModel::from_checkpoint(const std::string& path) {
  auto file = std::make_shared<const SafetensorsFile>(path);
  ModelConfig config;
  try {
    config = ModelConfig::from_metadata(file->metadata());
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(path + ": " + e.what());
  }
  return LoadedModel{.config = config, .weights = ModelWeights::load(std::move(file), config)};
}

LoadedModel LoadedModel::synthetic(const ModelConfig& config, uint64_t seed) {
  auto source = std::make_shared<const SyntheticWeights>(config, seed);
  return LoadedModel{.config = config, .weights = ModelWeights::load(std::move(source), config)};
}

}  // namespace parklock::engine
