// A LoRA adapter: per layer and projection, low-rank factors A [R, in] and
// B [out, R], so the adapted projection is y = x·Wᵀ + scale · (x·Aᵀ)·Bᵀ with
// scale = alpha / R (the effective weight is W + scale · B·A).
//
// File format: safetensors with PEFT tensor names,
//   [base_model.model.]model.layers.<i>.<module>.lora_A.weight   [R, in]
//   [base_model.model.]model.layers.<i>.<module>.lora_B.weight   [out, R]
// for any subset of the modules in llama_layout.h, one rank R for all, and
// "lora_alpha" in __metadata__ (PEFT keeps alpha in adapter_config.json;
// copy it into the metadata when converting).
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/model/llama_layout.h"
#include "engine/model/model_config.h"
#include "engine/model/tensor_source.h"

namespace parklock::engine {

class LoraAdapter {
 public:
  struct Factors {
    std::vector<float> a;  // [R, in]
    std::vector<float> b;  // [out, R]
  };

  // Throws std::runtime_error "<path>: ..." for an unreadable file, unknown
  // tensor names, layers past the model, shapes that do not fit the model,
  // A without B (or B without A), mixed ranks, or a missing lora_alpha.
  static std::shared_ptr<const LoraAdapter> load(const std::string& path, const ModelConfig& config);
  static std::shared_ptr<const LoraAdapter> from_source(const TensorSource& source,
                                                        const ModelConfig& config);

  int rank() const { return rank_; }
  float alpha() const { return alpha_; }
  float scale() const { return alpha_ / static_cast<float>(rank_); }
  // The model shape the adapter was checked against.
  const ModelConfig& config() const { return config_; }
  // nullptr when the adapter leaves that projection alone.
  const Factors* find(int layer, Projection p) const;

 private:
  LoraAdapter() = default;

  ModelConfig config_;
  int rank_ = 0;
  float alpha_ = 0;
  // [layer][projection]
  std::vector<std::array<std::optional<Factors>, kNumProjections>> factors_;
};

}  // namespace parklock::engine
