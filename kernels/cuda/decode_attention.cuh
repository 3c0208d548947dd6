// Paged grouped-query attention for decode steps: one new query token per
// sequence, attending to keys [0, context_len) of its paged KV cache (the
// new token's key already stored by rope_kv_write).
//
// One CTA per (sequence, KV head, split) serves the KV head's whole group of
// NH/NKV query heads, so each key and value is read from memory once per
// group. At small batch the CTAs would not fill the GPU, so the context is
// cut into partitions of partition_size keys (split-K): each split writes an
// unnormalised partial result with its running max and sum, and
// decode_attention_reduce combines them. The grid is sized by max_splits,
// not by the current lengths (splits past a sequence's end return at once),
// so a captured CUDA graph stays valid as contexts grow.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime_api.h>

#include <cstdint>

namespace parklock::kernels::cuda {

inline constexpr int kDecodeKeyTile = 128;  // keys per CTA iteration (one per thread)
inline constexpr int kDecodeMaxGroup = 8;   // NH / NKV supported (TinyLlama: 32 / 4)

struct DecodeSplit {
  int partition_size = 0;  // keys per split, a multiple of kDecodeKeyTile
  int max_splits = 1;      // grid depth; 1 = no split, no reduction
};

// Split-K policy: split only when num_seqs * NKV CTAs would not fill the
// multiprocessors, into partitions short enough to give the contexts present
// about two CTAs per multiprocessor. max_context is the capacity a graph is
// captured for: every context must be <= partition_size * max_splits.
DecodeSplit plan_decode_split(int num_seqs, int num_kv_heads, int max_context, int sm_count);

struct DecodeAttentionParams {
  int num_seqs = 0;      // N
  int num_heads = 0;     // NH
  int num_kv_heads = 0;  // NKV; NH / NKV <= kDecodeMaxGroup
  int head_dim = 0;      // D: 16, 32, 64 or 128 (instantiated set)
  int block_size = 0;    // S
  const __nv_bfloat16* q = nullptr;  // [N, NH, D] device, token stride q_stride (RoPE applied)
  int q_stride = 0;
  const __nv_bfloat16* k_cache = nullptr;  // [B, NKV, S, D] device, one layer
  const __nv_bfloat16* v_cache = nullptr;  // [B, NKV, S, D] device, one layer
  const int32_t* block_tables = nullptr;   // [N, max_blocks_per_seq] device physical block ids
  int max_blocks_per_seq = 0;
  const int32_t* context_lens = nullptr;   // [N] device, each in [1, max_blocks_per_seq * S]
  __nv_bfloat16* out = nullptr;            // [N, NH, D] device, token stride out_stride
  int out_stride = 0;
  float scale = 1.f;  // usually 1/sqrt(D)
  DecodeSplit split;
  // With split.max_splits > 1: fp32 scratch of
  // decode_partials_floats(N, NH, D, max_splits) floats.
  float* partials = nullptr;
};

size_t decode_partials_floats(int num_seqs, int num_heads, int head_dim, int max_splits);

// Attention, plus the split reduction when split.max_splits > 1.
void decode_attention(const DecodeAttentionParams& p, cudaStream_t stream);

}  // namespace parklock::kernels::cuda
