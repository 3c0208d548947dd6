// Seeded synthetic weights, for tests and for benchmarks at real model
// shapes (no checkpoint downloads are possible in CI).
//
// Each tensor is drawn from its own generator, seeded from (seed, name), so
// a tensor can be produced alone and in any order, and a file written from
// a seed holds exactly the weights of LoadedModel::synthetic(config, seed).
// Scales keep activations sane through any depth: projections have unit
// gain (uniform, variance 1/in_features), the two residual-branch outputs
// (o_proj, down_proj) are further damped by 1/sqrt(2 * layers), norm
// weights sit near 1, and embeddings are scaled so that tied logits have a
// standard deviation of about 2.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/model/llama_layout.h"
#include "engine/model/model_config.h"
#include "engine/model/safetensors.h"
#include "engine/model/tensor_source.h"

namespace parklock::engine {

class SyntheticWeights final : public TensorSource {
 public:
  SyntheticWeights(const ModelConfig& config, uint64_t seed);

  const std::string& description() const override { return description_; }
  std::vector<std::string> tensor_names() const override;
  std::optional<std::vector<int64_t>> shape_of(const std::string& name) const override;
  void read_f32(const std::string& name, std::span<float> dst) const override;
  const std::map<std::string, std::string>& metadata() const override { return metadata_; }

 private:
  ModelConfig config_;
  uint64_t seed_;
  std::string description_;
  std::vector<TensorSpec> specs_;
  std::map<std::string, std::string> metadata_;
};

// Writes SyntheticWeights(config, seed) as a safetensors checkpoint with the
// config in __metadata__ (loadable by LoadedModel::from_checkpoint).
void write_synthetic_model(const std::string& path, const ModelConfig& config, uint64_t seed,
                           Dtype dtype = Dtype::kF32);

struct LoraSpec {
  int rank = 8;
  float alpha = 16.f;
  uint64_t seed = 1;
  std::vector<Projection> targets{kAllProjections.begin(), kAllProjections.end()};
  // PEFT initialises B to zero, so a fresh adapter is the identity.
  bool zero_b = false;
};

// Writes a seeded adapter for `config` in the format of lora_adapter.h.
void write_synthetic_lora(const std::string& path, const ModelConfig& config, const LoraSpec& spec);

}  // namespace parklock::engine
