#include <cmath>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/prefill_attention.cuh"

namespace parklock::kernels::cuda {
namespace {

constexpr int kThreads = 128;  // 4 threads per query row of the tile
constexpr float kLog2e = 1.4426950408889634f;
static_assert(kThreads == 4 * kPrefillTileRows);

}  // namespace

void plan_prefill_tiles(const int32_t* seq_num_tokens, int num_seqs, std::vector<int32_t>& tile_seq,
                        std::vector<int32_t>& tile_row0) {
  for (int s = 0; s < num_seqs; ++s)
    for (int r = 0; r < seq_num_tokens[s]; r += kPrefillTileRows) {
      tile_seq.push_back(s);
      tile_row0.push_back(r);
    }
}

// Thread (row r = tid / 4, quarter c = tid % 4) owns query row r: its query
// in registers, scores of keys c, c + 4, ... of each key tile, and output
// dimensions c, c + 4, ... . The four threads of a row sit in one warp, so
// their softmax statistics combine with shuffles. Shared rows are padded by
// one float against bank conflicts.
template <int D>
static __global__ void __launch_bounds__(kThreads) prefill_attention_kernel(PrefillAttentionParams p) {
  constexpr int kKeysPerThread = kPrefillTileKeys / 4;
  constexpr int kDimsPerThread = D / 4;
  __shared__ float k_s[kPrefillTileKeys][D + 1];
  __shared__ float v_s[kPrefillTileKeys][D + 1];
  __shared__ float p_s[kPrefillTileRows][kPrefillTileKeys + 1];

  const int tile = blockIdx.x, h = blockIdx.y;
  const int seq = p.tile_seq[tile], row0 = p.tile_row0[tile];
  const int n_tok = p.seq_num_tokens[seq], start = p.seq_start_pos[seq];
  const int kvh = h / (p.num_heads / p.num_kv_heads);
  const int tid = threadIdx.x, r = tid >> 2, c = tid & 3;
  const int row = row0 + r;
  const bool valid = row < n_tok;
  const int qpos = start + row;
  const int key_end = start + min(row0 + kPrefillTileRows, n_tok);  // exclusive

  float q[D];
  {
    const __nv_bfloat16* qr = p.q + static_cast<long>(p.seq_row_begin[seq] + (valid ? row : 0)) * p.q_stride + h * D;
    const float qscale = p.scale * kLog2e;
#pragma unroll
    for (int d = 0; d < D; ++d) q[d] = valid ? __bfloat162float(qr[d]) * qscale : 0.f;
  }
  float acc[kDimsPerThread];
#pragma unroll
  for (int i = 0; i < kDimsPerThread; ++i) acc[i] = 0.f;
  float m = -INFINITY, l = 0.f;

  const int32_t* table = p.block_tables + static_cast<long>(seq) * p.max_blocks_per_seq;
  const long block_stride = static_cast<long>(p.num_kv_heads) * p.block_size * D;
  const long head_off = static_cast<long>(kvh) * p.block_size * D;

  for (int k0 = 0; k0 < key_end; k0 += kPrefillTileKeys) {
    // Stage the key and value tile: 8 bf16 (16 bytes) per load.
    for (int i = tid; i < kPrefillTileKeys * D / 8; i += kThreads) {
      const int j = i / (D / 8), d0 = (i % (D / 8)) * 8;
      const int kpos = k0 + j;
      float kf[8], vf[8];
      if (kpos < key_end) {
        const long off = table[kpos / p.block_size] * block_stride + head_off +
                         static_cast<long>(kpos % p.block_size) * D + d0;
        const uint4 kr = *reinterpret_cast<const uint4*>(p.k_cache + off);
        const uint4 vr = *reinterpret_cast<const uint4*>(p.v_cache + off);
        const __nv_bfloat16* kb = reinterpret_cast<const __nv_bfloat16*>(&kr);
        const __nv_bfloat16* vb = reinterpret_cast<const __nv_bfloat16*>(&vr);
#pragma unroll
        for (int e = 0; e < 8; ++e) {
          kf[e] = __bfloat162float(kb[e]);
          vf[e] = __bfloat162float(vb[e]);
        }
      } else {
#pragma unroll
        for (int e = 0; e < 8; ++e) kf[e] = vf[e] = 0.f;
      }
#pragma unroll
      for (int e = 0; e < 8; ++e) {
        k_s[j][d0 + e] = kf[e];
        v_s[j][d0 + e] = vf[e];
      }
    }
    __syncthreads();

    float s[kKeysPerThread];
    float mx = -INFINITY;
#pragma unroll
    for (int i = 0; i < kKeysPerThread; ++i) {
      const int j = c + 4 * i;
      float dot = 0.f;
#pragma unroll
      for (int d = 0; d < D; ++d) dot += q[d] * k_s[j][d];
      s[i] = valid && k0 + j <= qpos ? dot : -INFINITY;
      mx = fmaxf(mx, s[i]);
    }
    mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
    mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
    const float m_new = fmaxf(m, mx);
    // Rows past the sequence's end see only -inf; keep their arithmetic finite.
    const float m_use = m_new == -INFINITY ? 0.f : m_new;
    const float alpha = exp2f(m - m_use);
    float sum = 0.f;
#pragma unroll
    for (int i = 0; i < kKeysPerThread; ++i) {
      const float e = exp2f(s[i] - m_use);
      p_s[r][c + 4 * i] = e;
      sum += e;
    }
    sum += __shfl_xor_sync(0xffffffffu, sum, 1);
    sum += __shfl_xor_sync(0xffffffffu, sum, 2);
    l = l * alpha + sum;
    m = m_new;
    __syncwarp();  // the row's probabilities come from the same warp
#pragma unroll
    for (int i = 0; i < kDimsPerThread; ++i) acc[i] *= alpha;
#pragma unroll 4
    for (int j = 0; j < kPrefillTileKeys; ++j) {
      const float pj = p_s[r][j];
#pragma unroll
      for (int i = 0; i < kDimsPerThread; ++i) acc[i] += pj * v_s[j][c + 4 * i];
    }
    __syncthreads();  // the next tile overwrites k_s, v_s and p_s
  }

  if (valid) {
    __nv_bfloat16* o = p.out + static_cast<long>(p.seq_row_begin[seq] + row) * p.out_stride + h * D;
    const float inv = 1.f / l;
#pragma unroll
    for (int i = 0; i < kDimsPerThread; ++i) o[c + 4 * i] = __float2bfloat16(acc[i] * inv);
  }
}

void prefill_attention(const PrefillAttentionParams& p, cudaStream_t stream) {
  if (p.num_tiles == 0) return;
  if (p.num_kv_heads <= 0 || p.num_heads % p.num_kv_heads != 0)
    throw CudaError("prefill_attention: NH must be a multiple of NKV");
  const dim3 grid(p.num_tiles, p.num_heads);
  switch (p.head_dim) {
    case 16: prefill_attention_kernel<16><<<grid, kThreads, 0, stream>>>(p); break;
    case 32: prefill_attention_kernel<32><<<grid, kThreads, 0, stream>>>(p); break;
    case 64: prefill_attention_kernel<64><<<grid, kThreads, 0, stream>>>(p); break;
    case 128: prefill_attention_kernel<128><<<grid, kThreads, 0, stream>>>(p); break;
    default: throw CudaError("prefill_attention: head_dim " + std::to_string(p.head_dim) + " not instantiated (16, 32, 64, 128)");
  }
  PARKLOCK_CUDA_CHECK_LAUNCH();
}

}  // namespace parklock::kernels::cuda
