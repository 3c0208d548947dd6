#include <algorithm>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/swiglu.cuh"

namespace parklock::kernels::cuda {

// Grid-stride over (row, pair of columns): bf16x2 loads and stores, fp32
// math (silu in fp32 as the CPU twin computes it).
static __global__ void swiglu_pairs_kernel(SwigluParams p) {
  const int half = p.dim / 2;
  const long total = static_cast<long>(p.rows) * half;
  for (long idx = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; idx < total;
       idx += static_cast<long>(gridDim.x) * blockDim.x) {
    const long r = idx / half;
    const int c = static_cast<int>(idx % half) * 2;
    const __nv_bfloat16* g = p.gate_up + r * 2 * p.dim;
    const float2 gate = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(g + c));
    const float2 up = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(g + p.dim + c));
    const float a = gate.x / (1.f + __expf(-gate.x)) * up.x;
    const float b = gate.y / (1.f + __expf(-gate.y)) * up.y;
    *reinterpret_cast<__nv_bfloat162*>(p.out + r * p.dim + c) = __floats2bfloat162_rn(a, b);
  }
}

// Odd F: one element per thread (bf16x2 accesses would be misaligned).
static __global__ void swiglu_scalar_kernel(SwigluParams p) {
  const long total = static_cast<long>(p.rows) * p.dim;
  for (long idx = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; idx < total;
       idx += static_cast<long>(gridDim.x) * blockDim.x) {
    const long r = idx / p.dim;
    const int c = static_cast<int>(idx % p.dim);
    const float gate = __bfloat162float(p.gate_up[r * 2 * p.dim + c]);
    const float up = __bfloat162float(p.gate_up[r * 2 * p.dim + p.dim + c]);
    p.out[r * p.dim + c] = __float2bfloat16(gate / (1.f + __expf(-gate)) * up);
  }
}

void swiglu(const SwigluParams& p, cudaStream_t stream) {
  if (p.rows == 0) return;
  const int threads = 256;
  const bool pairs = p.dim % 2 == 0;
  const long work = static_cast<long>(p.rows) * (pairs ? p.dim / 2 : p.dim);
  const int blocks = static_cast<int>(std::min<long>((work + threads - 1) / threads, 4096));
  if (pairs)
    swiglu_pairs_kernel<<<blocks, threads, 0, stream>>>(p);
  else
    swiglu_scalar_kernel<<<blocks, threads, 0, stream>>>(p);
  PARKLOCK_CUDA_CHECK_LAUNCH();
}

}  // namespace parklock::kernels::cuda
