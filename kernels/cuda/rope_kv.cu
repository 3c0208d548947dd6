#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/rope_kv.cuh"

namespace parklock::kernels::cuda {

// One block per token. Work items: (NH + NKV) * D/2 rotation pairs, then
// NKV * D value copies. Rotation in fp32 from the bf16 projection output,
// rounded once to bf16.
static __global__ void rope_kv_write_kernel(RopeKvWriteParams p) {
  const int t = blockIdx.x;
  const int half = p.head_dim / 2;
  const int qkv_dim = (p.num_heads + 2 * p.num_kv_heads) * p.head_dim;
  __nv_bfloat16* row = p.qkv + static_cast<long>(t) * qkv_dim;
  const float2* cs = p.table.cos_sin + static_cast<long>(p.positions[t]) * half;
  const int slot_id = p.slot_mapping[t];
  const int block = slot_id / p.block_size;
  const int slot = slot_id % p.block_size;
  // Offset of (block, head 0, slot) in [B, NKV, S, D]; head h adds h * S * D.
  const long cache0 = (static_cast<long>(block) * p.num_kv_heads * p.block_size + slot) * p.head_dim;
  const long head_stride = static_cast<long>(p.block_size) * p.head_dim;

  const int rot_heads = p.num_heads + p.num_kv_heads;
  const int pairs = rot_heads * half;
  for (int w = threadIdx.x; w < pairs; w += blockDim.x) {
    const int h = w / half, i = w % half;
    __nv_bfloat16* x1 = row + h * p.head_dim + i;  // k heads follow q heads in the row
    const float a = __bfloat162float(x1[0]), b = __bfloat162float(x1[half]);
    const float2 c = cs[i];
    const __nv_bfloat16 r1 = __float2bfloat16(a * c.x - b * c.y);
    const __nv_bfloat16 r2 = __float2bfloat16(b * c.x + a * c.y);
    x1[0] = r1;
    x1[half] = r2;
    if (h >= p.num_heads) {
      __nv_bfloat16* k = p.k_cache + cache0 + (h - p.num_heads) * head_stride + i;
      k[0] = r1;
      k[half] = r2;
    }
  }
  const __nv_bfloat16* v = row + rot_heads * p.head_dim;
  for (int w = threadIdx.x; w < p.num_kv_heads * p.head_dim; w += blockDim.x) {
    const int h = w / p.head_dim, d = w % p.head_dim;
    p.v_cache[cache0 + h * head_stride + d] = v[w];
  }
}

void rope_kv_write(const RopeKvWriteParams& p, cudaStream_t stream) {
  if (p.num_tokens == 0) return;
  rope_kv_write_kernel<<<p.num_tokens, 256, 0, stream>>>(p);
  PARKLOCK_CUDA_CHECK_LAUNCH();
}

}  // namespace parklock::kernels::cuda
