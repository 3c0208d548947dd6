// Causal grouped-query attention of whole chunks of new tokens (prefill,
// chunked prefill, or any mix of sequences) over their paged KV cache,
// FlashAttention-style: query rows in tiles of kPrefillTileRows, keys in
// tiles of kPrefillTileKeys staged in shared memory, an online softmax, so
// no score matrix is ever stored. Query token t of a sequence sits at
// position start_pos + t and attends to keys [0, start_pos + t], all of
// which rope_kv_write must already have stored.
//
// Work is listed on the host (plan_prefill_tiles): one entry per (sequence,
// tile of query rows); the grid is (tiles, NH).
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime_api.h>

#include <cstdint>
#include <vector>

namespace parklock::kernels::cuda {

inline constexpr int kPrefillTileRows = 32;
inline constexpr int kPrefillTileKeys = 32;

struct PrefillAttentionParams {
  int num_tiles = 0;                     // grid x
  const int32_t* tile_seq = nullptr;     // [tiles] device: sequence of each tile
  const int32_t* tile_row0 = nullptr;    // [tiles] device: first query row of the tile in its sequence
  const int32_t* seq_start_pos = nullptr;   // [N] device: position of the sequence's first new token
  const int32_t* seq_num_tokens = nullptr;  // [N] device: its new tokens
  const int32_t* seq_row_begin = nullptr;   // [N] device: row of its first new token in q and out
  const int32_t* block_tables = nullptr;    // [N, max_blocks_per_seq] device
  int max_blocks_per_seq = 0;
  int num_heads = 0;     // NH
  int num_kv_heads = 0;  // NKV, NH % NKV == 0
  int head_dim = 0;      // D: 16, 32, 64 or 128 (instantiated set)
  int block_size = 0;    // S
  const __nv_bfloat16* q = nullptr;  // [T, NH, D] device, row stride q_stride (RoPE applied)
  int q_stride = 0;
  const __nv_bfloat16* k_cache = nullptr;  // [B, NKV, S, D] device, one layer
  const __nv_bfloat16* v_cache = nullptr;  // [B, NKV, S, D] device, one layer
  __nv_bfloat16* out = nullptr;  // [T, NH, D] device, row stride out_stride
  int out_stride = 0;
  float scale = 1.f;
};

// Host-side tile list for sequences with these new-token counts:
// appends (sequence, first row) pairs to tile_seq / tile_row0.
void plan_prefill_tiles(const int32_t* seq_num_tokens, int num_seqs, std::vector<int32_t>& tile_seq,
                        std::vector<int32_t>& tile_row0);

void prefill_attention(const PrefillAttentionParams& p, cudaStream_t stream);

}  // namespace parklock::kernels::cuda
