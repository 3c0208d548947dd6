// One sequence's part of a forward step (see ModelBackend::forward).
#pragma once

#include <cstdint>

namespace parklock::engine {

class LoraAdapter;

struct SeqStep {
  const int32_t* tokens = nullptr;  // [num_tokens] new tokens: a prefill chunk, or 1 for decode
  int num_tokens = 0;               // >= 1
  int start_pos = 0;  // position of tokens[0]; KV for [0, start_pos) is already cached
  // [num_blocks] physical KV block ids; logical block i holds positions
  // [i * block_size, (i + 1) * block_size). Must cover [0, start_pos + num_tokens).
  const int32_t* block_table = nullptr;
  int num_blocks = 0;
  const LoraAdapter* adapter = nullptr;  // nullptr = base model; must outlive the call
  bool want_logits = false;              // logits of this step's last token are wanted
};

}  // namespace parklock::engine
