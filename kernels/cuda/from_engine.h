// The engine's model types in CudaLlama's plain structs. Header-only, so
// kernels/cuda itself does not depend on engine/: only callers that hold
// engine types (tests, the benchmark, the engine's backend seam) include it.
#pragma once

#include "engine/model/model_config.h"
#include "engine/model/model_weights.h"
#include "engine/model/seq_step.h"
#include "kernels/cuda/llama_forward.h"

namespace parklock::kernels::cuda {

inline LlamaShape llama_shape(const engine::ModelConfig& c) {
  return LlamaShape{.vocab_size = c.vocab_size,
                    .hidden_size = c.hidden_size,
                    .num_layers = c.num_layers,
                    .num_heads = c.num_heads,
                    .num_kv_heads = c.num_kv_heads,
                    .head_dim = c.head_dim,
                    .ffn_size = c.ffn_size,
                    .rms_eps = c.rms_eps,
                    .rope_theta = c.rope_theta,
                    .max_positions = c.max_positions};
}

// Borrows w's storage: w must outlive the CudaLlama constructor call.
inline LlamaHostWeights llama_host_weights(const engine::ModelWeights& w) {
  LlamaHostWeights out{.embed = w.embed.data(), .layers = {}, .final_norm = w.final_norm.data(), .lm_head = w.lm_head_data()};
  for (const engine::LayerWeights& l : w.layers)
    out.layers.push_back({.attn_norm = l.attn_norm.data(),
                          .qkv = l.qkv.data(),
                          .o = l.o.data(),
                          .mlp_norm = l.mlp_norm.data(),
                          .gate_up = l.gate_up.data(),
                          .down = l.down.data()});
  return out;
}

// A SeqStep without its adapter (CudaLlama has no LoRA path).
inline SeqInput seq_input(const engine::SeqStep& s) {
  return SeqInput{.tokens = s.tokens,
                  .num_tokens = s.num_tokens,
                  .start_pos = s.start_pos,
                  .block_table = s.block_table,
                  .num_blocks = s.num_blocks,
                  .want_logits = s.want_logits};
}

}  // namespace parklock::kernels::cuda
