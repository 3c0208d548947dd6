#include "engine/model/forward_plan.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "engine/model/lora_adapter.h"

namespace parklock::engine {
namespace {

[[noreturn]] void bad_step(size_t s, const std::string& what) {
  throw std::invalid_argument("forward: step " + std::to_string(s) + ": " + what);
}

void validate_step(size_t s, const SeqStep& step, const ModelConfig& c, const PagedKvCache& kv) {
  if (step.num_tokens < 1 || step.tokens == nullptr) bad_step(s, "needs at least one token");
  if (step.start_pos < 0) bad_step(s, "negative start_pos");
  const long end = static_cast<long>(step.start_pos) + step.num_tokens;
  if (end > c.max_positions)
    bad_step(s, "positions up to " + std::to_string(end) + " exceed max_positions " +
                    std::to_string(c.max_positions));
  const long blocks_needed = (end + kv.block_size() - 1) / kv.block_size();
  if (step.block_table == nullptr || step.num_blocks < blocks_needed)
    bad_step(s, "block table has " + std::to_string(step.num_blocks) + " blocks, positions [0, " +
                    std::to_string(end) + ") need " + std::to_string(blocks_needed));
  for (long i = 0; i < blocks_needed; ++i)
    if (step.block_table[i] < 0 || step.block_table[i] >= kv.num_blocks())
      bad_step(s, "block id " + std::to_string(step.block_table[i]) + " outside the cache's [0, " +
                      std::to_string(kv.num_blocks()) + ")");
  for (int i = 0; i < step.num_tokens; ++i)
    if (step.tokens[i] < 0 || step.tokens[i] >= c.vocab_size)
      bad_step(s, "token " + std::to_string(step.tokens[i]) + " outside the vocabulary [0, " +
                      std::to_string(c.vocab_size) + ")");
  if (step.adapter != nullptr && !(step.adapter->config() == c))
    bad_step(s, "LoRA adapter was loaded for a different model shape");
}

}  // namespace

void ForwardPlan::build(std::span<const SeqStep> in, const ModelConfig& c, const PagedKvCache& kv,
                        bool have_logits_buffer) {
  if (!kv.allocated()) throw std::logic_error("forward: allocate_kv() has not been called");
  steps = in;
  num_tokens = 0;
  max_context = 0;
  tokens.clear();
  positions.clear();
  row_begin.assign(1, 0);
  logit_rows.clear();
  adapter_runs.clear();
  for (size_t s = 0; s < in.size(); ++s) {
    const SeqStep& step = in[s];
    validate_step(s, step, c, kv);
    for (int i = 0; i < step.num_tokens; ++i) {
      tokens.push_back(step.tokens[i]);
      positions.push_back(step.start_pos + i);
    }
    const int begin = num_tokens;
    num_tokens += step.num_tokens;
    row_begin.push_back(num_tokens);
    max_context = std::max(max_context, step.start_pos + step.num_tokens);
    if (step.want_logits) logit_rows.push_back(num_tokens - 1);
    if (step.adapter != nullptr) {
      if (!adapter_runs.empty() && adapter_runs.back().adapter == step.adapter &&
          adapter_runs.back().row_end == begin)
        adapter_runs.back().row_end = num_tokens;
      else
        adapter_runs.push_back({step.adapter, begin, num_tokens});
    }
  }
  if (!logit_rows.empty() && !have_logits_buffer)
    throw std::invalid_argument("forward: steps want logits but the logits buffer is null");
}

void ForwardWorkspace::resize(const ModelConfig& c, const ForwardPlan& plan, int threads) {
  const size_t t = plan.num_tokens;
  auto grow = [](std::vector<float>& v, size_t n) {
    if (v.size() < n) v.resize(n);
  };
  grow(x, t * c.hidden_size);
  grow(xn, t * c.hidden_size);
  grow(qkv, t * (c.q_dim() + 2 * c.kv_dim()));
  grow(attn, t * c.q_dim());
  grow(gate_up, t * 2 * c.ffn_size);
  grow(act, t * c.ffn_size);
  grow(rope_cos, t * c.head_dim / 2);
  grow(rope_sin, t * c.head_dim / 2);
  grow(scores, static_cast<size_t>(threads) * plan.max_context);
  grow(head_in, plan.logit_rows.size() * c.hidden_size);
  // lora_tmp depends on the adapters' ranks; apply_lora grows it.
}

}  // namespace parklock::engine
