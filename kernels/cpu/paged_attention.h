// Causal grouped-query attention of one sequence's new tokens over its paged
// KV cache. Query token t sits at position start_pos + t and attends to keys
// [0, start_pos + t]: the cached prefix (earlier prefill chunks and decode
// steps) plus the new tokens up to itself, which paged_kv_write must already
// have stored. Query head h reads KV head h / (NH / NKV).
#pragma once

#include <cstdint>

#include "kernels/cpu/paged_kv.h"

namespace parklock::kernels::cpu {

struct PagedAttentionParams {
  PagedKvLayout layout;
  int num_heads = 0;                     // NH, a multiple of NKV
  // Query heads [head_begin, head_end) are computed (a compute thread's
  // share); the rest of `out` is left alone.
  int head_begin = 0;
  int head_end = 0;
  int num_tokens = 0;                    // T (new tokens of this sequence)
  int start_pos = 0;                     // position of token 0
  const int32_t* block_table = nullptr;  // [ceil((start_pos + T) / S)] physical block ids
  const float* q = nullptr;              // [T, NH, D], token stride q_stride (RoPE applied)
  int q_stride = 0;
  const float* k_cache = nullptr;  // [B, NKV, S, D] one layer
  const float* v_cache = nullptr;  // [B, NKV, S, D] one layer
  float* out = nullptr;            // [T, NH, D], token stride out_stride
  int out_stride = 0;
  float scale = 1.f;         // usually 1/sqrt(D)
  float* scratch = nullptr;  // [start_pos + T] scores, overwritten
};

void paged_attention(const PagedAttentionParams& p);

}  // namespace parklock::kernels::cpu
