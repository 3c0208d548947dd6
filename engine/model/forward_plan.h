// What one forward step computes, laid out for the kernels: the batch's
// tokens concatenated in step order, their positions, which rows belong to
// which step and adapter, and the scratch tensors the layers reuse.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/model/kv_cache.h"
#include "engine/model/model_config.h"
#include "engine/model/seq_step.h"

namespace parklock::engine {

// Consecutive rows that share one LoRA adapter: their deltas take one GEMM pair.
struct AdapterRun {
  const LoraAdapter* adapter = nullptr;
  int row_begin = 0;  // [row_begin, row_end) of the batch's T rows
  int row_end = 0;
};

struct ForwardPlan {
  std::span<const SeqStep> steps;
  int num_tokens = 0;               // T
  std::vector<int32_t> tokens;      // [T]
  std::vector<int32_t> positions;   // [T]
  std::vector<int> row_begin;       // [steps + 1]: step s owns rows [row_begin[s], row_begin[s+1])
  std::vector<int> logit_rows;      // rows whose logits are wanted, in step order
  std::vector<AdapterRun> adapter_runs;  // only runs with an adapter
  int max_context = 0;              // longest start_pos + num_tokens

  // Validates every step against the model and the cache (throws
  // std::invalid_argument / std::logic_error, see ModelBackend::forward) and fills
  // the plan.
  void build(std::span<const SeqStep> steps, const ModelConfig& config, const PagedKvCache& kv,
             bool have_logits_buffer);
};

// Activations of one step; grown on demand, never shrunk, so steady-state
// decoding allocates nothing.
struct ForwardWorkspace {
  std::vector<float> x;        // [T, H] residual stream
  std::vector<float> xn;       // [T, H] normalised input of a sublayer
  std::vector<float> qkv;      // [T, NH*D + 2*NKV*D] fused projection output
  std::vector<float> attn;     // [T, NH*D] attention output
  std::vector<float> gate_up;  // [T, 2F]
  std::vector<float> act;      // [T, F] SwiGLU output
  std::vector<float> rope_cos; // [T, D/2]
  std::vector<float> rope_sin; // [T, D/2]
  std::vector<float> scores;   // [threads, max_context] attention scratch, one row per compute thread
  std::vector<float> lora_tmp; // [T, R] x · Aᵀ
  std::vector<float> head_in;  // [rows with logits, H]

  void resize(const ModelConfig& config, const ForwardPlan& plan, int threads);
};

}  // namespace parklock::engine
