// The decoder's weights as the forward pass reads them: one fp32 view per
// tensor. F32 tensors of a mapped checkpoint are used in place (a 4.4 GB
// file costs 4.4 GB, in the page cache, not twice that); F16/BF16 tensors
// and generated ones are converted into memory the weights own.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "engine/model/model_config.h"
#include "engine/model/tensor_source.h"

namespace parklock::engine {

// fp32 values of one tensor, row-major, living in the mapping or in owned memory.
struct WeightView {
  const float* data = nullptr;
  size_t size = 0;  // elements
};

struct LayerWeights {
  WeightView attn_norm;  // [H] input_layernorm
  WeightView q;          // [NH*D, H] q_proj
  WeightView k;          // [NKV*D, H] k_proj
  WeightView v;          // [NKV*D, H] v_proj
  WeightView o;          // [H, NH*D] o_proj
  WeightView mlp_norm;   // [H] post_attention_layernorm
  WeightView gate;       // [F, H] gate_proj
  WeightView up;         // [F, H] up_proj
  WeightView down;       // [H, F] down_proj
};

class ModelWeights {
 public:
  // Reads and checks every tensor of llama_tensor_specs(config); throws
  // std::runtime_error naming the source and the tensor on any mismatch.
  // Keeps `source` alive while tensors are viewed in place.
  static ModelWeights load(std::shared_ptr<const TensorSource> source, const ModelConfig& config);

  WeightView embed;  // [V, H]
  std::vector<LayerWeights> layers;
  WeightView final_norm;  // [H]
  WeightView lm_head;     // [V, H]; the embedding matrix when embeddings are tied

  // Bytes of converted or generated tensors held in memory (0 when every
  // tensor is used in place from a mapped F32 file).
  size_t owned_bytes() const;

 private:
  WeightView take(const std::string& name, std::vector<int64_t> shape);

  std::shared_ptr<const TensorSource> source_;
  std::vector<std::vector<float>> owned_;  // moving the outer vector keeps inner buffers in place
};

}  // namespace parklock::engine
