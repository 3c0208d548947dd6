#include <algorithm>
#include <cmath>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/decode_attention.cuh"
#include "kernels/cuda/device_util.cuh"

namespace parklock::kernels::cuda {
namespace {

constexpr int kThreads = kDecodeKeyTile;
constexpr int kWarps = kThreads / 32;
constexpr float kLog2e = 1.4426950408889634f;

// Partials layout: acc [N, NH, splits, D], then max and sum [N, NH, splits]
// (log2 domain: scores are pre-multiplied by log2(e), exponentials are exp2).
struct PartialsView {
  float* acc;
  float* max;
  float* sum;
  __device__ PartialsView(float* base, int n, int nh, int d, int splits)
      : acc(base),
        max(base + static_cast<long>(n) * nh * splits * d),
        sum(max + static_cast<long>(n) * nh * splits) {}
};

}  // namespace

size_t decode_partials_floats(int num_seqs, int num_heads, int head_dim, int max_splits) {
  return static_cast<size_t>(num_seqs) * num_heads * max_splits * (head_dim + 2);
}

DecodeSplit plan_decode_split(int num_seqs, int num_kv_heads, int max_context, int sm_count) {
  const int ctas = num_seqs * num_kv_heads;
  const int tiles = (max_context + kDecodeKeyTile - 1) / kDecodeKeyTile;
  if (ctas >= sm_count || tiles <= 1) return {.partition_size = tiles * kDecodeKeyTile, .max_splits = 1};
  // Partitions as short as the CTA count allows (one key tile when few
  // CTAs), so that the contexts actually present, usually far below the
  // capacity, still spread over many CTAs; splits past a context's end cost
  // an empty CTA each.
  const int tiles_per_split = std::max(1, (2 * ctas + sm_count - 1) / sm_count);
  return {.partition_size = tiles_per_split * kDecodeKeyTile,
          .max_splits = (tiles + tiles_per_split - 1) / tiles_per_split};
}

// Phase per key tile: (1) thread j scores key j against every head of the
// group (16-byte key loads, queries from shared memory); (2) warp w updates
// the online softmax of heads w, w + 4, ...; (3) thread (lane, d) adds its
// keys' weighted values for output dimension d of every head.
template <int D>
static __global__ void __launch_bounds__(kThreads) decode_attention_kernel(DecodeAttentionParams p) {
  constexpr int kLanes = kThreads / D;  // key lanes in the PV phase
  const int seq = blockIdx.x, kvh = blockIdx.y, split = blockIdx.z;
  const int group = p.num_heads / p.num_kv_heads;
  const int ctx = p.context_lens[seq];
  const int begin = split * p.split.partition_size;
  if (begin >= ctx) return;  // the reduction reads only splits that hold keys
  const int end = min(begin + p.split.partition_size, ctx);

  __shared__ float q_s[kDecodeMaxGroup][D];
  __shared__ float p_s[kDecodeMaxGroup][kDecodeKeyTile];
  __shared__ float m_s[kDecodeMaxGroup], l_s[kDecodeMaxGroup], alpha_s[kDecodeMaxGroup];

  const int tid = threadIdx.x;
  const float qscale = p.scale * kLog2e;
  for (int i = tid; i < group * D; i += kThreads) {
    const int g = i / D, d = i % D;
    q_s[g][d] = __bfloat162float(p.q[static_cast<long>(seq) * p.q_stride + (kvh * group + g) * D + d]) * qscale;
  }
  if (tid < group) {
    m_s[tid] = -INFINITY;
    l_s[tid] = 0.f;
  }
  const int32_t* table = p.block_tables + static_cast<long>(seq) * p.max_blocks_per_seq;
  const long head_off = static_cast<long>(kvh) * p.block_size * D;
  const long block_stride = static_cast<long>(p.num_kv_heads) * p.block_size * D;
  auto key_offset = [&](int pos) {
    return table[pos / p.block_size] * block_stride + head_off + static_cast<long>(pos % p.block_size) * D;
  };

  const int d_own = tid % D, lane_own = tid / D;
  float acc[kDecodeMaxGroup];
#pragma unroll
  for (int g = 0; g < kDecodeMaxGroup; ++g) acc[g] = 0.f;
  __syncthreads();

  for (int tile0 = begin; tile0 < end; tile0 += kDecodeKeyTile) {
    const int n = min(kDecodeKeyTile, end - tile0);
    // (1) scores
    if (tid < n) {
      const __nv_bfloat16* k = p.k_cache + key_offset(tile0 + tid);
      float s[kDecodeMaxGroup];
#pragma unroll
      for (int g = 0; g < kDecodeMaxGroup; ++g) s[g] = 0.f;
#pragma unroll
      for (int d0 = 0; d0 < D; d0 += 8) {
        const uint4 raw = *reinterpret_cast<const uint4*>(k + d0);
        const __nv_bfloat162* kv = reinterpret_cast<const __nv_bfloat162*>(&raw);
#pragma unroll
        for (int j = 0; j < 4; ++j) {
          const float2 kf = __bfloat1622float2(kv[j]);
#pragma unroll
          for (int g = 0; g < kDecodeMaxGroup; ++g)
            if (g < group) s[g] += q_s[g][d0 + 2 * j] * kf.x + q_s[g][d0 + 2 * j + 1] * kf.y;
        }
      }
#pragma unroll
      for (int g = 0; g < kDecodeMaxGroup; ++g)
        if (g < group) p_s[g][tid] = s[g];
    } else {
      for (int g = 0; g < group; ++g) p_s[g][tid] = -INFINITY;
    }
    __syncthreads();
    // (2) online softmax, one warp per head
    const int warp = tid / 32, lane = tid % 32;
    for (int g = warp; g < group; g += kWarps) {
      float mx = -INFINITY;
#pragma unroll
      for (int i = 0; i < kDecodeKeyTile / 32; ++i) mx = fmaxf(mx, p_s[g][lane + 32 * i]);
      mx = detail::warp_max(mx);
      const float m_old = m_s[g];
      const float m_new = fmaxf(m_old, mx);  // finite: the tile holds at least one key
      float sum = 0.f;
#pragma unroll
      for (int i = 0; i < kDecodeKeyTile / 32; ++i) {
        const float e = exp2f(p_s[g][lane + 32 * i] - m_new);
        p_s[g][lane + 32 * i] = e;
        sum += e;
      }
      sum = detail::warp_sum(sum);
      if (lane == 0) {
        const float alpha = exp2f(m_old - m_new);
        alpha_s[g] = alpha;
        l_s[g] = l_s[g] * alpha + sum;
        m_s[g] = m_new;
      }
    }
    __syncthreads();
    // (3) weighted values
#pragma unroll
    for (int g = 0; g < kDecodeMaxGroup; ++g)
      if (g < group) acc[g] *= alpha_s[g];
    for (int j = lane_own; j < n; j += kLanes) {
      const float v = __bfloat162float(p.v_cache[key_offset(tile0 + j) + d_own]);
#pragma unroll
      for (int g = 0; g < kDecodeMaxGroup; ++g)
        if (g < group) acc[g] += p_s[g][j] * v;
    }
    __syncthreads();
  }

  // Sum the key lanes' accumulators (p_s is free now: kLanes * group * D
  // <= group * kDecodeKeyTile floats).
  float* red = &p_s[0][0];
#pragma unroll
  for (int g = 0; g < kDecodeMaxGroup; ++g)
    if (g < group) red[(lane_own * group + g) * D + d_own] = acc[g];
  __syncthreads();
  const int nh = p.num_heads;
  for (int i = tid; i < group * D; i += kThreads) {
    const int g = i / D, d = i % D;
    float total = 0.f;
#pragma unroll
    for (int l = 0; l < kLanes; ++l) total += red[(l * group + g) * D + d];
    const int h = kvh * group + g;
    if (p.split.max_splits == 1) {
      p.out[static_cast<long>(seq) * p.out_stride + h * D + d] = __float2bfloat16(total / l_s[g]);
    } else {
      const PartialsView v(p.partials, p.num_seqs, nh, D, p.split.max_splits);
      const long slot = (static_cast<long>(seq) * nh + h) * p.split.max_splits + split;
      v.acc[slot * D + d] = total;
      if (d == 0) {
        v.max[slot] = m_s[g];
        v.sum[slot] = l_s[g];
      }
    }
  }
}

// One block per (sequence, query head): combines the splits that hold keys.
static __global__ void decode_attention_reduce_kernel(DecodeAttentionParams p) {
  const int seq = blockIdx.x, h = blockIdx.y;
  const int d_all = p.head_dim;
  const int used = (p.context_lens[seq] + p.split.partition_size - 1) / p.split.partition_size;
  const PartialsView v(p.partials, p.num_seqs, p.num_heads, d_all, p.split.max_splits);
  const long slot0 = (static_cast<long>(seq) * p.num_heads + h) * p.split.max_splits;
  float m = -INFINITY;
  for (int s = 0; s < used; ++s) m = fmaxf(m, v.max[slot0 + s]);
  float denom = 0.f;
  for (int s = 0; s < used; ++s) denom += exp2f(v.max[slot0 + s] - m) * v.sum[slot0 + s];
  for (int d = threadIdx.x; d < d_all; d += blockDim.x) {
    float num = 0.f;
    for (int s = 0; s < used; ++s) num += exp2f(v.max[slot0 + s] - m) * v.acc[(slot0 + s) * d_all + d];
    p.out[static_cast<long>(seq) * p.out_stride + h * d_all + d] = __float2bfloat16(num / denom);
  }
}

void decode_attention(const DecodeAttentionParams& p, cudaStream_t stream) {
  if (p.num_seqs == 0) return;
  if (p.num_heads % p.num_kv_heads != 0 || p.num_heads / p.num_kv_heads > kDecodeMaxGroup)
    throw CudaError("decode_attention: NH / NKV must be a whole number <= " + std::to_string(kDecodeMaxGroup));
  if (p.split.partition_size % kDecodeKeyTile != 0 || p.split.max_splits < 1)
    throw CudaError("decode_attention: partition size must be a multiple of the key tile");
  if (p.split.max_splits > 1 && p.partials == nullptr)
    throw CudaError("decode_attention: split-K needs the partials scratch");
  const dim3 grid(p.num_seqs, p.num_kv_heads, p.split.max_splits);
  switch (p.head_dim) {
    case 16: decode_attention_kernel<16><<<grid, kThreads, 0, stream>>>(p); break;
    case 32: decode_attention_kernel<32><<<grid, kThreads, 0, stream>>>(p); break;
    case 64: decode_attention_kernel<64><<<grid, kThreads, 0, stream>>>(p); break;
    case 128: decode_attention_kernel<128><<<grid, kThreads, 0, stream>>>(p); break;
    default: throw CudaError("decode_attention: head_dim " + std::to_string(p.head_dim) + " not instantiated (16, 32, 64, 128)");
  }
  PARKLOCK_CUDA_CHECK_LAUNCH();
  if (p.split.max_splits > 1) {
    decode_attention_reduce_kernel<<<dim3(p.num_seqs, p.num_heads), 64, 0, stream>>>(p);
    PARKLOCK_CUDA_CHECK_LAUNCH();
  }
}

}  // namespace parklock::kernels::cuda
