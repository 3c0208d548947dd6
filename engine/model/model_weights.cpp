#include "engine/model/model_weights.h"

#include <stdexcept>

#include "engine/model/llama_layout.h"

namespace parklock::engine {

WeightView ModelWeights::take(const std::string& name, std::vector<int64_t> shape) {
  size_t n = 1;
  for (int64_t d : shape) n *= static_cast<size_t>(d);
  if (const float* in_place = source_->f32_data(name, shape)) return {in_place, n};
  std::vector<float>& buffer = owned_.emplace_back(n);
  read_checked(*source_, name, shape, buffer);
  return {buffer.data(), n};
}

ModelWeights ModelWeights::load(std::shared_ptr<const TensorSource> source, const ModelConfig& c) {
  c.validate();
  const int64_t v = c.vocab_size, h = c.hidden_size;
  ModelWeights w;
  w.source_ = std::move(source);
  auto projection = [&](int l, Projection p) {
    const ProjectionShape s = projection_shape(c, p);
    return w.take(layer_tensor_name(l, projection_module(p)), {s.out_features, s.in_features});
  };
  w.embed = w.take(kEmbedName, {v, h});
  w.layers.resize(c.num_layers);
  for (int l = 0; l < c.num_layers; ++l) {
    LayerWeights& lw = w.layers[l];
    lw.attn_norm = w.take(layer_tensor_name(l, kAttnNormModule), {h});
    lw.q = projection(l, Projection::kQ);
    lw.k = projection(l, Projection::kK);
    lw.v = projection(l, Projection::kV);
    lw.o = projection(l, Projection::kO);
    lw.mlp_norm = w.take(layer_tensor_name(l, kMlpNormModule), {h});
    lw.gate = projection(l, Projection::kGate);
    lw.up = projection(l, Projection::kUp);
    lw.down = projection(l, Projection::kDown);
  }
  w.final_norm = w.take(kFinalNormName, {h});
  // With tied embeddings a checkpoint may still carry lm_head.weight (some
  // exporters write the shared matrix twice); like Hugging Face, ignore it.
  w.lm_head = c.tie_embeddings ? w.embed : w.take(kLmHeadName, {v, h});
  return w;
}

size_t ModelWeights::owned_bytes() const {
  size_t bytes = 0;
  for (const auto& b : owned_) bytes += b.size() * sizeof(float);
  return bytes;
}

}  // namespace parklock::engine
