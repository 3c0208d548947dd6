// A model's shapes and weights as read from a checkpoint or generated:
// what every backend (model_backend.h) is built from.
#pragma once

#include <cstdint>
#include <string>

#include "engine/model/model_config.h"
#include "engine/model/model_weights.h"

namespace parklock::engine {

struct LoadedModel {
  ModelConfig config;
  ModelWeights weights;

  // Reads a safetensors checkpoint (Hugging Face Llama tensor names, any of
  // F32/F16/BF16) whose __metadata__ holds the config (model_config.h).
  // Throws SafetensorsError / std::runtime_error / std::invalid_argument
  // naming the file and the problem.
  static LoadedModel from_checkpoint(const std::string& safetensors_path);
  // The same weights write_synthetic_model(path, config, seed) would store.
  static LoadedModel synthetic(const ModelConfig& config, uint64_t seed);
};

}  // namespace parklock::engine
