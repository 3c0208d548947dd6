// Paged KV cache layout and the write of new keys/values into it.
//
// One layer's cache is [B, NKV, S, D]: a block holds S consecutive positions
// of one sequence for every KV head, each head's S slots contiguous so that
// attention streams a head's keys of a block as one [S, D] tile. A sequence's
// block table maps logical block i (positions [i*S, (i+1)*S)) to a physical
// block id; the serving side owns the tables, sharing and copy-on-write.
#pragma once

#include <cstdint>

namespace parklock::kernels::cpu {

struct PagedKvLayout {
  int block_size = 0;    // S
  int num_kv_heads = 0;  // NKV
  int head_dim = 0;      // D

  long block_stride() const { return static_cast<long>(num_kv_heads) * block_size * head_dim; }
  // Float offset of (block, kv_head, slot) within one layer's cache.
  long offset(int block, int kv_head, int slot) const {
    return block * block_stride() + (static_cast<long>(kv_head) * block_size + slot) * head_dim;
  }
};

// Stores the keys and values of tokens [start_pos, start_pos + T) of one
// sequence into their slots.
struct PagedKvWriteParams {
  PagedKvLayout layout;
  int num_tokens = 0;                    // T
  int start_pos = 0;                     // position of token 0
  const int32_t* block_table = nullptr;  // [ceil((start_pos + T) / S)] physical block ids
  const float* k = nullptr;              // [T, NKV, D], token stride row_stride
  const float* v = nullptr;              // [T, NKV, D], token stride row_stride
  int row_stride = 0;
  float* k_cache = nullptr;  // [B, NKV, S, D] one layer
  float* v_cache = nullptr;  // [B, NKV, S, D] one layer
};

void paged_kv_write(const PagedKvWriteParams& p);

}  // namespace parklock::kernels::cpu
