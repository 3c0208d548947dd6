#include <cfloat>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/sampling.cuh"

namespace parklock::kernels::cuda {
namespace {

constexpr int kThreads = 512;
constexpr int kWarps = kThreads / 32;
constexpr int kBins = 256;

struct SampleShared {
  double hist[kWarps][kBins];  // per-warp histograms: fewer colliding atomics
  double red[kWarps];
  float best_val[kWarps];
  int best_id[kWarps];
  int chosen_bin;
  double chosen_above;
};

__device__ __forceinline__ uint64_t order_key(float logit, int id) {
  uint32_t u = __float_as_uint(logit);
  u = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
  return (static_cast<uint64_t>(u) << 32) | (0xFFFFFFFFu - static_cast<uint32_t>(id));
}

__device__ __forceinline__ int key_id(uint64_t key) {
  return static_cast<int>(0xFFFFFFFFu - static_cast<uint32_t>(key));
}

// Weight of a candidate: 1 (counting, for top-k) or exp((logit - max) / T).
struct Weight {
  bool counting;
  float max_logit;
  float inv_temp;
  __device__ double operator()(float logit) const {
    return counting ? 1.0 : static_cast<double>(expf((logit - max_logit) * inv_temp));
  }
};

__device__ double block_sum_double(double v, SampleShared& sh) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  __syncthreads();
  if (lane == 0) sh.red[warp] = v;
  __syncthreads();
  double total = 0;
  for (int w = 0; w < kWarps; ++w) total += sh.red[w];
  return total;
}

// Total weight of the candidates with key >= lo.
__device__ double weight_from(const float* logits, int vocab, uint64_t lo, Weight weight,
                              SampleShared& sh) {
  double s = 0;
  for (int i = threadIdx.x; i < vocab; i += kThreads)
    if (order_key(logits[i], i) >= lo) s += weight(logits[i]);
  return block_sum_double(s, sh);
}

// The first key, in descending order among keys >= lo, at which the
// cumulative weight reaches target (> target when strict). When rounding
// leaves the target above the total, the last candidate with weight.
__device__ uint64_t select_desc(const float* logits, int vocab, uint64_t lo, Weight weight,
                                double target, bool strict, SampleShared& sh) {
  const int warp = threadIdx.x >> 5;
  uint64_t prefix = 0;
  double above = 0;  // weight of candidates with keys above the current prefix range
  for (int shift = 56; shift >= 0; shift -= 8) {
    const uint64_t high_mask = shift == 56 ? 0 : ~0ull << (shift + 8);
    for (int i = threadIdx.x; i < kWarps * kBins; i += kThreads) (&sh.hist[0][0])[i] = 0;
    __syncthreads();
    for (int i = threadIdx.x; i < vocab; i += kThreads) {
      const uint64_t key = order_key(logits[i], i);
      if (key < lo || (key & high_mask) != prefix) continue;
      atomicAdd(&sh.hist[warp][(key >> shift) & 0xFF], weight(logits[i]));
    }
    __syncthreads();
    for (int b = threadIdx.x; b < kBins; b += kThreads) {
      double t = 0;
      for (int w = 0; w < kWarps; ++w) t += sh.hist[w][b];
      sh.hist[0][b] = t;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
      int chosen = -1, last = -1;
      double acc = above;
      for (int b = kBins - 1; b >= 0; --b) {
        const double h = sh.hist[0][b];
        if (h <= 0) continue;
        last = b;
        if (strict ? acc + h > target : acc + h >= target) {
          chosen = b;
          break;
        }
        acc += h;
      }
      if (chosen < 0) {  // fell off the end: take the last weighted bin
        chosen = last;
        acc -= last >= 0 ? sh.hist[0][last] : 0;
      }
      sh.chosen_bin = chosen < 0 ? 0 : chosen;
      sh.chosen_above = acc;
    }
    __syncthreads();
    prefix |= static_cast<uint64_t>(sh.chosen_bin) << shift;
    above = sh.chosen_above;
    __syncthreads();
  }
  return prefix;
}

static __global__ void __launch_bounds__(kThreads) sample_kernel(SampleParams p) {
  __shared__ SampleShared sh;
  const int row = blockIdx.x;
  const float* logits = p.logits + static_cast<long>(row) * p.vocab;

  // Max and argmax, lowest id on ties.
  float best = -INFINITY;
  int best_id = 0x7FFFFFFF;
  for (int i = threadIdx.x; i < p.vocab; i += kThreads) {
    const float v = logits[i];
    if (v > best || (v == best && i < best_id)) {
      best = v;
      best_id = i;
    }
  }
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    const float ov = __shfl_xor_sync(0xffffffffu, best, o);
    const int oi = __shfl_xor_sync(0xffffffffu, best_id, o);
    if (ov > best || (ov == best && oi < best_id)) {
      best = ov;
      best_id = oi;
    }
  }
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) {
    sh.best_val[warp] = best;
    sh.best_id[warp] = best_id;
  }
  __syncthreads();
  best = sh.best_val[0];
  best_id = sh.best_id[0];
  for (int w = 1; w < kWarps; ++w)
    if (sh.best_val[w] > best || (sh.best_val[w] == best && sh.best_id[w] < best_id)) {
      best = sh.best_val[w];
      best_id = sh.best_id[w];
    }
  const float temperature = p.temperature ? p.temperature[row] : 0.f;
  if (temperature <= 0.f) {
    if (threadIdx.x == 0) p.tokens[row] = best_id;
    return;
  }

  const Weight mass{.counting = false, .max_logit = best, .inv_temp = 1.f / temperature};
  uint64_t lo = 0;
  const int k = p.top_k[row];
  if (k > 0 && k < p.vocab)
    lo = select_desc(logits, p.vocab, 0, Weight{.counting = true}, k, false, sh);
  double total = weight_from(logits, p.vocab, lo, mass, sh);
  const float top_p = p.top_p[row];
  if (top_p < 1.f) {
    lo = select_desc(logits, p.vocab, lo, mass, fmax(0.0, static_cast<double>(top_p)) * total, false, sh);
    total = weight_from(logits, p.vocab, lo, mass, sh);
  }
  const double u = static_cast<double>(p.random_words[row] >> 11) * 0x1.0p-53;
  const uint64_t key = select_desc(logits, p.vocab, lo, mass, u * total, true, sh);
  if (threadIdx.x == 0) p.tokens[row] = key_id(key);
}

}  // namespace

void sample_tokens(const SampleParams& p, cudaStream_t stream) {
  if (p.num_rows == 0) return;
  if (p.temperature && (!p.top_k || !p.top_p || !p.random_words))
    throw CudaError("sample_tokens: temperature needs top_k, top_p and random_words");
  sample_kernel<<<p.num_rows, kThreads, 0, stream>>>(p);
  PARKLOCK_CUDA_CHECK_LAUNCH();
}

}  // namespace parklock::kernels::cuda
