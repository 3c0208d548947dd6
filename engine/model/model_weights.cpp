#include "engine/model/model_weights.h"

#include "engine/model/llama_layout.h"

namespace parklock::engine {
namespace {

std::vector<float> read_whole(const TensorSource& src, const std::string& name,
                              std::vector<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  std::vector<float> out(static_cast<size_t>(n));
  read_checked(src, name, shape, out);
  return out;
}

// Reads projection p of layer l into rows [row0, row0 + out) of a stacked matrix.
void read_projection_rows(const TensorSource& src, const ModelConfig& c, int l, Projection p,
                          std::vector<float>& stacked, int row0) {
  const ProjectionShape s = projection_shape(c, p);
  const std::vector<int64_t> shape = {s.out_features, s.in_features};
  std::span<float> dst(stacked.data() + static_cast<size_t>(row0) * s.in_features,
                       static_cast<size_t>(s.out_features) * s.in_features);
  read_checked(src, layer_tensor_name(l, projection_module(p)), shape, dst);
}

}  // namespace

ModelWeights ModelWeights::load(const TensorSource& src, const ModelConfig& c) {
  c.validate();
  const int64_t v = c.vocab_size, h = c.hidden_size;
  ModelWeights w;
  w.embed = read_whole(src, kEmbedName, {v, h});
  w.layers.resize(c.num_layers);
  for (int l = 0; l < c.num_layers; ++l) {
    LayerWeights& lw = w.layers[l];
    lw.attn_norm = read_whole(src, layer_tensor_name(l, kAttnNormModule), {h});
    lw.qkv.resize(static_cast<size_t>(c.q_dim() + 2 * c.kv_dim()) * h);
    read_projection_rows(src, c, l, Projection::kQ, lw.qkv, 0);
    read_projection_rows(src, c, l, Projection::kK, lw.qkv, c.q_dim());
    read_projection_rows(src, c, l, Projection::kV, lw.qkv, c.q_dim() + c.kv_dim());
    lw.o = read_whole(src, layer_tensor_name(l, projection_module(Projection::kO)),
                      {h, c.q_dim()});
    lw.mlp_norm = read_whole(src, layer_tensor_name(l, kMlpNormModule), {h});
    lw.gate_up.resize(static_cast<size_t>(2 * c.ffn_size) * h);
    read_projection_rows(src, c, l, Projection::kGate, lw.gate_up, 0);
    read_projection_rows(src, c, l, Projection::kUp, lw.gate_up, c.ffn_size);
    lw.down = read_whole(src, layer_tensor_name(l, projection_module(Projection::kDown)),
                         {h, c.ffn_size});
  }
  w.final_norm = read_whole(src, kFinalNormName, {h});
  // With tied embeddings a checkpoint may still carry lm_head.weight (some
  // exporters write the shared matrix twice); like Hugging Face, ignore it.
  if (!c.tie_embeddings) w.lm_head = read_whole(src, kLmHeadName, {v, h});
  return w;
}

}  // namespace parklock::engine
