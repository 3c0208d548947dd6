#include "engine/model/llama_layout.h"

namespace parklock::engine {

std::string_view projection_module(Projection p) {
  switch (p) {
    case Projection::kQ: return "self_attn.q_proj";
    case Projection::kK: return "self_attn.k_proj";
    case Projection::kV: return "self_attn.v_proj";
    case Projection::kO: return "self_attn.o_proj";
    case Projection::kGate: return "mlp.gate_proj";
    case Projection::kUp: return "mlp.up_proj";
    case Projection::kDown: return "mlp.down_proj";
  }
  return "?";
}

std::optional<Projection> projection_from_module(std::string_view module) {
  for (Projection p : kAllProjections)
    if (projection_module(p) == module) return p;
  return std::nullopt;
}

ProjectionShape projection_shape(const ModelConfig& c, Projection p) {
  switch (p) {
    case Projection::kQ: return {c.hidden_size, c.q_dim()};
    case Projection::kK:
    case Projection::kV: return {c.hidden_size, c.kv_dim()};
    case Projection::kO: return {c.q_dim(), c.hidden_size};
    case Projection::kGate:
    case Projection::kUp: return {c.hidden_size, c.ffn_size};
    case Projection::kDown: return {c.ffn_size, c.hidden_size};
  }
  return {};
}

std::string layer_tensor_name(int layer, std::string_view module) {
  return "model.layers." + std::to_string(layer) + "." + std::string(module) + ".weight";
}

std::vector<TensorSpec> llama_tensor_specs(const ModelConfig& c) {
  const int64_t v = c.vocab_size, h = c.hidden_size;
  std::vector<TensorSpec> specs;
  specs.push_back({kEmbedName, {v, h}});
  for (int l = 0; l < c.num_layers; ++l) {
    specs.push_back({layer_tensor_name(l, kAttnNormModule), {h}});
    for (Projection p : kAllProjections) {
      if (p == Projection::kGate) specs.push_back({layer_tensor_name(l, kMlpNormModule), {h}});
      const ProjectionShape s = projection_shape(c, p);
      specs.push_back({layer_tensor_name(l, projection_module(p)), {s.out_features, s.in_features}});
    }
  }
  specs.push_back({kFinalNormName, {h}});
  if (!c.tie_embeddings) specs.push_back({kLmHeadName, {v, h}});
  return specs;
}

}  // namespace parklock::engine
