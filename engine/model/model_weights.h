// The decoder's weights in the layout the forward pass wants: q/k/v stacked
// into one matrix and gate/up into another, so each takes one GEMM.
#pragma once

#include <vector>

#include "engine/model/model_config.h"
#include "engine/model/tensor_source.h"

namespace parklock::engine {

struct LayerWeights {
  std::vector<float> attn_norm;  // [H] input_layernorm
  std::vector<float> qkv;        // [NH*D + 2*NKV*D, H]: q_proj rows, then k_proj, then v_proj
  std::vector<float> o;          // [H, NH*D] o_proj
  std::vector<float> mlp_norm;   // [H] post_attention_layernorm
  std::vector<float> gate_up;    // [2F, H]: gate_proj rows, then up_proj rows
  std::vector<float> down;       // [H, F] down_proj
};

struct ModelWeights {
  std::vector<float> embed;  // [V, H]
  std::vector<LayerWeights> layers;
  std::vector<float> final_norm;  // [H]
  std::vector<float> lm_head;     // [V, H]; empty when embeddings are tied

  const float* lm_head_data() const { return lm_head.empty() ? embed.data() : lm_head.data(); }

  // Reads and checks every tensor of llama_tensor_specs(config); throws
  // std::runtime_error naming the source and the tensor on any mismatch.
  static ModelWeights load(const TensorSource& source, const ModelConfig& config);
};

}  // namespace parklock::engine
