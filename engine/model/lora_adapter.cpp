#include "engine/model/lora_adapter.h"

#include <charconv>
#include <map>
#include <stdexcept>

#include "engine/model/safetensors.h"

namespace parklock::engine {
namespace {

struct LoraTensorName {
  int layer = 0;
  Projection projection = Projection::kQ;
  bool is_a = false;  // lora_A (down-projection to rank R) or lora_B
};

bool consume(std::string_view& s, std::string_view prefix) {
  if (s.substr(0, prefix.size()) != prefix) return false;
  s.remove_prefix(prefix.size());
  return true;
}

std::optional<LoraTensorName> parse_name(std::string_view s) {
  consume(s, "base_model.model.");
  if (!consume(s, "model.layers.")) return std::nullopt;
  LoraTensorName n;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n.layer);
  if (ec != std::errc() || end == s.data()) return std::nullopt;
  s.remove_prefix(end - s.data());
  if (!consume(s, ".")) return std::nullopt;
  if (s.ends_with(".lora_A.weight")) {
    n.is_a = true;
  } else if (!s.ends_with(".lora_B.weight")) {
    return std::nullopt;
  }
  s.remove_suffix(std::string_view(".lora_A.weight").size());
  const auto projection = projection_from_module(s);
  if (!projection) return std::nullopt;
  n.projection = *projection;
  return n;
}

float parse_alpha(const TensorSource& src) {
  const auto it = src.metadata().find("lora_alpha");
  if (it == src.metadata().end())
    throw std::runtime_error(src.description() + ": LoRA metadata lacks 'lora_alpha'");
  float alpha = 0;
  const std::string& s = it->second;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), alpha);
  if (ec != std::errc() || end != s.data() + s.size() || !(alpha > 0))
    throw std::runtime_error(src.description() + ": lora_alpha '" + s +
                             "' is not a positive number");
  return alpha;
}

}  // namespace

std::shared_ptr<const LoraAdapter> LoraAdapter::load(const std::string& path,
                                                     const ModelConfig& config) {
  const SafetensorsFile file(path);
  return from_source(file, config);
}

std::shared_ptr<const LoraAdapter> LoraAdapter::from_source(const TensorSource& src,
                                                            const ModelConfig& config) {
  config.validate();
  auto fail = [&](const std::string& what) {
    throw std::runtime_error(src.description() + ": " + what);
  };
  std::shared_ptr<LoraAdapter> adapter(new LoraAdapter());
  adapter->config_ = config;
  adapter->alpha_ = parse_alpha(src);
  adapter->factors_.resize(config.num_layers);

  // (layer, projection) -> names of its A and B tensors
  std::map<std::pair<int, Projection>, std::pair<std::string, std::string>> pairs;
  for (const std::string& name : src.tensor_names()) {
    const auto parsed = parse_name(name);
    if (!parsed)
      fail("unexpected tensor '" + name +
           "' (expected model.layers.<i>.<module>.lora_A.weight / lora_B.weight)");
    if (parsed->layer >= config.num_layers)
      fail("tensor '" + name + "' is for layer " + std::to_string(parsed->layer) +
           ", but the model has " + std::to_string(config.num_layers) + " layers");
    auto& slot = pairs[{parsed->layer, parsed->projection}];
    (parsed->is_a ? slot.first : slot.second) = name;
  }
  if (pairs.empty()) fail("no LoRA tensors");

  for (const auto& [key, names] : pairs) {
    const auto& [layer, projection] = key;
    if (names.first.empty() || names.second.empty())
      fail("'" + (names.first.empty() ? names.second : names.first) +
           "' has no matching lora_" + (names.first.empty() ? "A" : "B") + " tensor");
    const auto a_shape = *src.shape_of(names.first);
    if (a_shape.size() != 2 || a_shape[0] <= 0)
      fail("tensor '" + names.first + "' must be [rank, in_features], got " + shape_text(a_shape));
    const int rank = static_cast<int>(a_shape[0]);
    if (adapter->rank_ == 0) adapter->rank_ = rank;
    if (rank != adapter->rank_)
      fail("tensor '" + names.first + "' has rank " + std::to_string(rank) +
           ", other tensors have rank " + std::to_string(adapter->rank_));
    const ProjectionShape ps = projection_shape(config, projection);
    Factors f;
    f.a.resize(static_cast<size_t>(rank) * ps.in_features);
    f.b.resize(static_cast<size_t>(ps.out_features) * rank);
    const std::vector<int64_t> want_a = {rank, ps.in_features};
    const std::vector<int64_t> want_b = {ps.out_features, rank};
    read_checked(src, names.first, want_a, f.a);
    read_checked(src, names.second, want_b, f.b);
    adapter->factors_[layer][static_cast<int>(projection)] = std::move(f);
  }
  return adapter;
}

const LoraAdapter::Factors* LoraAdapter::find(int layer, Projection p) const {
  const auto& f = factors_.at(layer)[static_cast<int>(p)];
  return f ? &*f : nullptr;
}

}  // namespace parklock::engine
