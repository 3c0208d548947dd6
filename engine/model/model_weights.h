// The decoder's weights as the forward pass reads them: q/k/v stacked into
// one matrix and gate/up into another, so each takes one GEMM; one fp32 view
// per matrix.
//
// Loaded from a shared source (LoadedModel::from_checkpoint), F32 tensors
// of a mapped checkpoint are used in place: a stacked matrix too, when its
// parts lie back to back in the file in stacking order, as make-weights
// writes them.
// A 4.4 GB file then costs 4.4 GB (in the page cache), not twice that.
// Everything else (F16/BF16, generated weights, parts stored apart, as in
// checkpoints whose tensors are sorted by name) is converted into memory
// the weights own.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "engine/model/model_config.h"
#include "engine/model/tensor_source.h"

namespace parklock::engine {

// fp32 values of one matrix, row-major, in the mapping or in owned memory.
class WeightView {
 public:
  WeightView() = default;
  WeightView(const float* data, size_t size) : data_(data), size_(size) {}
  const float* data() const { return data_; }
  size_t size() const { return size_; }  // elements
  bool operator==(const WeightView&) const = default;

 private:
  const float* data_ = nullptr;
  size_t size_ = 0;
};

struct LayerWeights {
  WeightView attn_norm;  // [H] input_layernorm
  WeightView qkv;        // [NH*D + 2*NKV*D, H]: q_proj rows, then k_proj, then v_proj
  WeightView o;          // [H, NH*D] o_proj
  WeightView mlp_norm;   // [H] post_attention_layernorm
  WeightView gate_up;    // [2F, H]: gate_proj rows, then up_proj rows
  WeightView down;       // [H, F] down_proj
};

class ModelWeights {
 public:
  // Reads and checks every tensor of llama_tensor_specs(config); throws
  // std::runtime_error naming the source and the tensor on any mismatch.
  // Views F32 tensors in place and keeps `source` alive for them.
  static ModelWeights load(std::shared_ptr<const TensorSource> source, const ModelConfig& config);
  // The same, copying every tensor: `source` need not outlive the weights.
  static ModelWeights load(const TensorSource& source, const ModelConfig& config);

  WeightView embed;  // [V, H]
  std::vector<LayerWeights> layers;
  WeightView final_norm;  // [H]
  WeightView lm_head;     // [V, H]; the embedding matrix when embeddings are tied

  const float* lm_head_data() const { return lm_head.data(); }

  // Bytes of converted or generated tensors held in memory (0 when every
  // tensor is used in place from a mapped F32 file).
  size_t owned_bytes() const;

 private:
  struct Part {
    std::string name;
    std::vector<int64_t> shape;
  };
  static ModelWeights load_from(const TensorSource& source, const ModelConfig& config, bool in_place);
  // The parts stacked by rows into one matrix: in place, or copied.
  WeightView take(const TensorSource& source, const std::vector<Part>& parts, bool in_place);

  std::shared_ptr<const TensorSource> source_;  // set when views point into it
  std::vector<std::vector<float>> owned_;  // moving the outer vector keeps inner buffers in place
};

}  // namespace parklock::engine
