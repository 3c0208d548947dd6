// The QKV path after the fused QKV GEMM, in one kernel: RoPE (rotate-half,
// as kernels/cpu/rope.h) on every query and key head in place, and the
// store of each token's rotated keys and its values into the paged KV cache
// (layout of kernels/cpu/paged_kv.h, in bf16). Fusing saves a launch and a
// round trip of k through memory per layer.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime_api.h>

#include <cstdint>

namespace parklock::kernels::cuda {

// cos/sin per position, computed once on the host in double (as
// cpu::rope_table does) and kept on the device for every layer and step.
struct RopeTable {
  int max_positions = 0;
  int head_dim = 0;             // D
  const float2* cos_sin = nullptr;  // [max_positions, D/2] device: (cos, sin) of pos * theta^(-2i/D)
};

struct RopeKvWriteParams {
  int num_tokens = 0;    // T
  int num_heads = 0;     // NH
  int num_kv_heads = 0;  // NKV
  int head_dim = 0;      // D (even)
  int block_size = 0;    // S
  __nv_bfloat16* qkv = nullptr;  // [T, NH*D + 2*NKV*D] device, q and k rotated in place
  const int32_t* positions = nullptr;     // [T] device, each < table.max_positions
  const int32_t* slot_mapping = nullptr;  // [T] device: physical block * S + slot of each token
  RopeTable table;
  __nv_bfloat16* k_cache = nullptr;  // [B, NKV, S, D] device, one layer
  __nv_bfloat16* v_cache = nullptr;  // [B, NKV, S, D] device, one layer
};

void rope_kv_write(const RopeKvWriteParams& p, cudaStream_t stream);

}  // namespace parklock::kernels::cuda
