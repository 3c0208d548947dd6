#include "engine/model/synthetic_weights.h"

#include <charconv>
#include <cmath>
#include <stdexcept>

namespace parklock::engine {
namespace {

// SplitMix64: tiny, fast, and good enough for weights; the same stream on
// every platform, unlike std::uniform_real_distribution.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [-bound, bound).
  float uniform(float bound) {
    const float unit = static_cast<float>(next() >> 40) * (1.f / 16777216.f);  // [0, 1)
    return (2.f * unit - 1.f) * bound;
  }

 private:
  uint64_t state_;
};

uint64_t stream_seed(uint64_t seed, const std::string& name) {
  uint64_t h = 0xCBF29CE484222325ull;  // FNV-1a over the name
  for (const char c : name) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001B3ull;
  return h ^ (seed * 0x9E3779B97F4A7C15ull);
}

void fill_uniform(std::span<float> dst, uint64_t seed, const std::string& name, float bound,
                  float center = 0.f) {
  SplitMix64 rng(stream_seed(seed, name));
  for (float& x : dst) x = center + rng.uniform(bound);
}

// Uniform with variance 1/in_features: unit gain for a projection.
float unit_gain_bound(int64_t in_features) { return std::sqrt(3.f / static_cast<float>(in_features)); }

}  // namespace

SyntheticWeights::SyntheticWeights(const ModelConfig& config, uint64_t seed)
    : config_(config),
      seed_(seed),
      description_("synthetic weights (seed " + std::to_string(seed) + ")"),
      specs_(llama_tensor_specs(config)),
      metadata_(config.to_metadata()) {
  config.validate();
}

std::vector<std::string> SyntheticWeights::tensor_names() const {
  std::vector<std::string> names;
  for (const TensorSpec& s : specs_) names.push_back(s.name);
  return names;
}

std::optional<std::vector<int64_t>> SyntheticWeights::shape_of(const std::string& name) const {
  for (const TensorSpec& s : specs_)
    if (s.name == name) return s.shape;
  return std::nullopt;
}

void SyntheticWeights::read_f32(const std::string& name, std::span<float> dst) const {
  const auto shape = shape_of(name);
  if (!shape) throw std::runtime_error(description_ + ": no tensor named '" + name + "'");
  if (name == kEmbedName || name == kLmHeadName) {
    fill_uniform(dst, seed_, name, 2.f * unit_gain_bound(config_.hidden_size));
  } else if (shape->size() == 1) {  // a norm weight
    fill_uniform(dst, seed_, name, 0.1f, 1.f);
  } else {
    float bound = unit_gain_bound((*shape)[1]);
    if (name.ends_with("o_proj.weight") || name.ends_with("down_proj.weight"))
      bound /= std::sqrt(2.f * config_.num_layers);
    fill_uniform(dst, seed_, name, bound);
  }
}

void write_synthetic_model(const std::string& path, const ModelConfig& config, uint64_t seed,
                           Dtype dtype) {
  const SyntheticWeights weights(config, seed);
  std::vector<SafetensorsEntry> entries;
  for (const TensorSpec& spec : llama_tensor_specs(config)) {
    entries.push_back(SafetensorsEntry{
        .name = spec.name,
        .shape = spec.shape,
        .dtype = dtype,
        .fill = [&weights, name = spec.name](std::span<float> dst) { weights.read_f32(name, dst); }});
  }
  write_safetensors(path, entries, weights.metadata());
}

void write_synthetic_lora(const std::string& path, const ModelConfig& config, const LoraSpec& spec) {
  config.validate();
  if (spec.rank <= 0) throw std::invalid_argument("LoRA rank must be positive");
  if (!(spec.alpha > 0)) throw std::invalid_argument("LoRA alpha must be positive");
  const float scale = spec.alpha / static_cast<float>(spec.rank);
  std::vector<SafetensorsEntry> entries;
  for (int l = 0; l < config.num_layers; ++l) {
    for (Projection p : spec.targets) {
      const ProjectionShape ps = projection_shape(config, p);
      const std::string base = "base_model.model.model.layers." + std::to_string(l) + "." +
                               std::string(projection_module(p));
      const std::string a_name = base + ".lora_A.weight";
      const std::string b_name = base + ".lora_B.weight";
      entries.push_back(SafetensorsEntry{
          .name = a_name,
          .shape = {spec.rank, ps.in_features},
          .fill = [seed = spec.seed, a_name, in = ps.in_features](std::span<float> dst) {
            fill_uniform(dst, seed, a_name, unit_gain_bound(in));
          }});
      // The delta's output is about 0.2 of the base projection's, whatever
      // alpha and rank: visible in tests, still a perturbation of the model.
      const float b_bound = spec.zero_b ? 0.f : 0.2f * unit_gain_bound(spec.rank) / scale;
      entries.push_back(SafetensorsEntry{
          .name = b_name,
          .shape = {ps.out_features, spec.rank},
          .fill = [seed = spec.seed, b_name, b_bound](std::span<float> dst) {
            fill_uniform(dst, seed, b_name, b_bound);
          }});
    }
  }
  char alpha[32];
  const auto [end, ec] = std::to_chars(alpha, alpha + sizeof alpha, spec.alpha);
  write_safetensors(path, entries,
                    {{"lora_alpha", std::string(alpha, end)}, {"r", std::to_string(spec.rank)}});
}

}  // namespace parklock::engine
