#include "engine/model/model_weights.h"

#include <stdexcept>

#include "engine/model/llama_layout.h"

namespace parklock::engine {
namespace {

size_t numel(const std::vector<int64_t>& shape) {
  size_t n = 1;
  for (int64_t d : shape) n *= static_cast<size_t>(d);
  return n;
}

}  // namespace

WeightView ModelWeights::take(const TensorSource& source, const std::vector<Part>& parts,
                              bool in_place) {
  size_t total = 0;
  for (const Part& p : parts) total += numel(p.shape);
  if (in_place) {
    // In place only if every part is viewable and follows the last one directly.
    const float* first = source.f32_data(parts[0].name, parts[0].shape);
    const float* next = first;
    for (const Part& p : parts) {
      if (next == nullptr || source.f32_data(p.name, p.shape) != next) {
        first = nullptr;
        break;
      }
      next += numel(p.shape);
    }
    if (first != nullptr) return {first, total};
  }
  std::vector<float>& buffer = owned_.emplace_back(total);
  size_t offset = 0;
  for (const Part& p : parts) {
    const size_t n = numel(p.shape);
    read_checked(source, p.name, p.shape, std::span<float>(buffer.data() + offset, n));
    offset += n;
  }
  return {buffer.data(), total};
}

ModelWeights ModelWeights::load_from(const TensorSource& src, const ModelConfig& c, bool in_place) {
  c.validate();
  const int64_t v = c.vocab_size, h = c.hidden_size;
  ModelWeights w;
  auto one = [&](const std::string& name, std::vector<int64_t> shape) {
    return w.take(src, {{name, std::move(shape)}}, in_place);
  };
  auto projection = [&](int l, Projection p) {
    const ProjectionShape s = projection_shape(c, p);
    return Part{layer_tensor_name(l, projection_module(p)), {s.out_features, s.in_features}};
  };
  w.embed = one(kEmbedName, {v, h});
  w.layers.resize(c.num_layers);
  for (int l = 0; l < c.num_layers; ++l) {
    LayerWeights& lw = w.layers[l];
    lw.attn_norm = one(layer_tensor_name(l, kAttnNormModule), {h});
    lw.qkv = w.take(src, {projection(l, Projection::kQ), projection(l, Projection::kK),
                          projection(l, Projection::kV)}, in_place);
    lw.o = w.take(src, {projection(l, Projection::kO)}, in_place);
    lw.mlp_norm = one(layer_tensor_name(l, kMlpNormModule), {h});
    lw.gate_up = w.take(src, {projection(l, Projection::kGate), projection(l, Projection::kUp)}, in_place);
    lw.down = w.take(src, {projection(l, Projection::kDown)}, in_place);
  }
  w.final_norm = one(kFinalNormName, {h});
  // With tied embeddings a checkpoint may still carry lm_head.weight (some
  // exporters write the shared matrix twice); like Hugging Face, ignore it.
  w.lm_head = c.tie_embeddings ? w.embed : one(kLmHeadName, {v, h});
  return w;
}

ModelWeights ModelWeights::load(std::shared_ptr<const TensorSource> source, const ModelConfig& c) {
  ModelWeights w = load_from(*source, c, /*in_place=*/true);
  w.source_ = std::move(source);
  return w;
}

ModelWeights ModelWeights::load(const TensorSource& source, const ModelConfig& c) {
  return load_from(source, c, /*in_place=*/false);
}

size_t ModelWeights::owned_bytes() const {
  size_t bytes = 0;
  for (const auto& b : owned_) bytes += b.size() * sizeof(float);
  return bytes;
}

}  // namespace parklock::engine
