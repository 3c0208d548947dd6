// The tensors of a Llama checkpoint under Hugging Face names, and the seven
// linear projections of a decoder layer (the places a LoRA can attach).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/model/model_config.h"

namespace parklock::engine {

enum class Projection { kQ, kK, kV, kO, kGate, kUp, kDown };
inline constexpr int kNumProjections = 7;
inline constexpr std::array<Projection, kNumProjections> kAllProjections = {
    Projection::kQ,    Projection::kK,  Projection::kV,   Projection::kO,
    Projection::kGate, Projection::kUp, Projection::kDown};

// "self_attn.q_proj", "mlp.down_proj", ...: the module path inside a layer.
std::string_view projection_module(Projection p);
std::optional<Projection> projection_from_module(std::string_view module);

// A projection maps in_features to out_features; its weight is [out, in].
struct ProjectionShape {
  int in_features = 0;
  int out_features = 0;
};
ProjectionShape projection_shape(const ModelConfig& c, Projection p);

// "model.layers.<layer>.<module>.weight"
std::string layer_tensor_name(int layer, std::string_view module);

struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape;
};

// Every tensor the model reads, in checkpoint order (lm_head.weight only when
// embeddings are not tied).
std::vector<TensorSpec> llama_tensor_specs(const ModelConfig& c);

inline constexpr const char* kEmbedName = "model.embed_tokens.weight";
inline constexpr const char* kFinalNormName = "model.norm.weight";
inline constexpr const char* kLmHeadName = "lm_head.weight";
inline constexpr const char* kAttnNormModule = "input_layernorm";
inline constexpr const char* kMlpNormModule = "post_attention_layernorm";

}  // namespace parklock::engine
