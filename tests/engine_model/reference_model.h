// A deliberately plain float64 Llama forward pass for checking the engine:
// one sequence, no paging, no batching, no fused weights; it reads the same
// tensors by their Hugging Face names and follows the textbook formulas.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/model/model_config.h"
#include "engine/model/tensor_source.h"

namespace parklock::engine::testing {

// An adapter for the reference: factors read from its own TensorSource.
struct ReferenceLora {
  const TensorSource* source = nullptr;
  double scale = 0;  // alpha / rank
};

class ReferenceModel {
 public:
  ReferenceModel(const ModelConfig& config, const TensorSource& weights,
                 const ReferenceLora& lora = {});

  // Logits [tokens.size(), V]: row p is the prediction after tokens[0..p].
  std::vector<std::vector<double>> logits(const std::vector<int32_t>& tokens) const;

 private:
  using Matrix = std::vector<double>;  // row-major [out, in]
  struct Layer {
    std::vector<double> attn_norm, mlp_norm;
    Matrix q, k, v, o, gate, up, down;
  };

  ModelConfig c_;
  std::vector<double> embed_, final_norm_, lm_head_;
  std::vector<Layer> layers_;
};

}  // namespace parklock::engine::testing
