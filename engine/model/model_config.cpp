#include "engine/model/model_config.h"

#include <charconv>
#include <stdexcept>

namespace parklock::engine {

ModelConfig ModelConfig::tiny() {
  return ModelConfig{.vocab_size = 259,  // 256 bytes + <pad>, <bos>, <eos> (byte_tokenizer.h)
                     .hidden_size = 64,
                     .num_layers = 2,
                     .num_heads = 4,
                     .num_kv_heads = 2,
                     .head_dim = 16,
                     .ffn_size = 172,
                     .tie_embeddings = true,
                     .max_positions = 1024};
}

ModelConfig ModelConfig::small() {
  return ModelConfig{.vocab_size = 259,
                     .hidden_size = 256,
                     .num_layers = 4,
                     .num_heads = 8,
                     .num_kv_heads = 4,
                     .head_dim = 32,
                     .ffn_size = 688,
                     .tie_embeddings = true,
                     .max_positions = 2048};
}

ModelConfig ModelConfig::tinyllama_1b() {
  return ModelConfig{.vocab_size = 32000,
                     .hidden_size = 2048,
                     .num_layers = 22,
                     .num_heads = 32,
                     .num_kv_heads = 4,
                     .head_dim = 64,
                     .ffn_size = 5632,
                     .tie_embeddings = false,
                     .max_positions = 2048};
}

ModelConfig ModelConfig::by_name(std::string_view name) {
  if (name == "tiny") return tiny();
  if (name == "small") return small();
  if (name == "tinyllama-1.1b") return tinyllama_1b();
  throw std::invalid_argument("unknown model config '" + std::string(name) +
                              "' (known: tiny, small, tinyllama-1.1b)");
}

void ModelConfig::validate() const {
  auto require = [](bool ok, const char* what) {
    if (!ok) throw std::invalid_argument(std::string("invalid model config: ") + what);
  };
  require(vocab_size > 0, "vocab_size must be positive");
  require(hidden_size > 0, "hidden_size must be positive");
  require(num_layers > 0, "num_layers must be positive");
  require(num_heads > 0, "num_heads must be positive");
  require(num_kv_heads > 0, "num_kv_heads must be positive");
  require(num_heads % num_kv_heads == 0, "num_heads must be a multiple of num_kv_heads");
  require(head_dim > 0 && head_dim % 2 == 0, "head_dim must be positive and even");
  require(ffn_size > 0, "ffn_size must be positive");
  require(max_positions > 0, "max_positions must be positive");
  require(rms_eps > 0, "rms_eps must be positive");
  require(rope_theta > 0, "rope_theta must be positive");
}

namespace {

// Names from Hugging Face's LlamaConfig, so a converted checkpoint's
// config.json maps onto the metadata one to one.
constexpr const char* kVocab = "vocab_size";
constexpr const char* kHidden = "hidden_size";
constexpr const char* kLayers = "num_hidden_layers";
constexpr const char* kHeads = "num_attention_heads";
constexpr const char* kKvHeads = "num_key_value_heads";
constexpr const char* kHeadDim = "head_dim";
constexpr const char* kFfn = "intermediate_size";
constexpr const char* kEps = "rms_norm_eps";
constexpr const char* kTheta = "rope_theta";
constexpr const char* kTie = "tie_word_embeddings";
constexpr const char* kMaxPos = "max_position_embeddings";

const std::string& lookup(const std::map<std::string, std::string>& m, const char* key) {
  const auto it = m.find(key);
  if (it == m.end())
    throw std::invalid_argument(std::string("model metadata lacks '") + key + "'");
  return it->second;
}

template <typename T>
T parse_number(const std::map<std::string, std::string>& m, const char* key) {
  const std::string& s = lookup(m, key);
  T value{};
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size())
    throw std::invalid_argument(std::string("model metadata '") + key + "' is not a number: '" +
                                s + "'");
  return value;
}

std::string float_text(float f) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, f);  // shortest round-trip form
  return std::string(buf, end);
}

}  // namespace

std::map<std::string, std::string> ModelConfig::to_metadata() const {
  return {{kVocab, std::to_string(vocab_size)},
          {kHidden, std::to_string(hidden_size)},
          {kLayers, std::to_string(num_layers)},
          {kHeads, std::to_string(num_heads)},
          {kKvHeads, std::to_string(num_kv_heads)},
          {kHeadDim, std::to_string(head_dim)},
          {kFfn, std::to_string(ffn_size)},
          {kEps, float_text(rms_eps)},
          {kTheta, float_text(rope_theta)},
          {kTie, tie_embeddings ? "true" : "false"},
          {kMaxPos, std::to_string(max_positions)}};
}

ModelConfig ModelConfig::from_metadata(const std::map<std::string, std::string>& m) {
  ModelConfig c;
  c.vocab_size = parse_number<int>(m, kVocab);
  c.hidden_size = parse_number<int>(m, kHidden);
  c.num_layers = parse_number<int>(m, kLayers);
  c.num_heads = parse_number<int>(m, kHeads);
  // Hugging Face omits these two when they take their defaults.
  c.num_kv_heads = m.count(kKvHeads) ? parse_number<int>(m, kKvHeads) : c.num_heads;
  c.head_dim = m.count(kHeadDim) ? parse_number<int>(m, kHeadDim)
                                 : (c.num_heads > 0 ? c.hidden_size / c.num_heads : 0);
  c.ffn_size = parse_number<int>(m, kFfn);
  c.rms_eps = parse_number<float>(m, kEps);
  c.rope_theta = parse_number<float>(m, kTheta);
  const std::string& tie = lookup(m, kTie);
  if (tie != "true" && tie != "false")
    throw std::invalid_argument("model metadata 'tie_word_embeddings' must be true or false, got '" +
                                tie + "'");
  c.tie_embeddings = tie == "true";
  c.max_positions = parse_number<int>(m, kMaxPos);
  c.validate();
  return c;
}

}  // namespace parklock::engine
