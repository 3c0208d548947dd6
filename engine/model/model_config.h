// Shape of a Llama-architecture decoder.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace parklock::engine {

struct ModelConfig {
  int vocab_size = 0;    // V
  int hidden_size = 0;   // H
  int num_layers = 0;
  int num_heads = 0;     // NH query heads
  int num_kv_heads = 0;  // NKV key/value heads; NH % NKV == 0 (grouped-query attention)
  int head_dim = 0;      // D, even (RoPE rotates pairs); NH * D need not equal H
  int ffn_size = 0;      // F, the SwiGLU MLP's inner size
  float rms_eps = 1e-5f;
  float rope_theta = 10000.f;
  bool tie_embeddings = false;  // LM head reuses the token embedding matrix
  int max_positions = 0;        // longest sequence (prompt + generated) accepted

  // CI model: byte vocabulary + specials, runs in microseconds per token.
  static ModelConfig tiny();
  // A few million parameters: about a millisecond per decode step on a CPU.
  static ModelConfig small();
  // TinyLlama-1.1B's shape (GPU benchmarks; slow but correct on the CPU).
  static ModelConfig tinyllama_1b();
  // "tiny", "small", "tinyllama-1.1b"; throws std::invalid_argument otherwise.
  static ModelConfig by_name(std::string_view name);

  // Throws std::invalid_argument naming the first inconsistent field.
  void validate() const;

  int q_dim() const { return num_heads * head_dim; }      // NH * D
  int kv_dim() const { return num_kv_heads * head_dim; }  // NKV * D

  // Stored in a safetensors __metadata__ under Hugging Face config.json key
  // names (hidden_size, num_hidden_layers, ...), values as decimal strings.
  std::map<std::string, std::string> to_metadata() const;
  // Throws std::invalid_argument naming a missing or malformed key.
  static ModelConfig from_metadata(const std::map<std::string, std::string>& metadata);

  bool operator==(const ModelConfig&) const = default;
};

}  // namespace parklock::engine
