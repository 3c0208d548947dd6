#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/device_util.cuh"
#include "kernels/cuda/rms_norm.cuh"

namespace parklock::kernels::cuda {

// One block per row. Each thread keeps its kValues elements of the row in
// registers between the sum of squares and the scaling, so the row is read
// once and written once. kValues * threads must cover H: launches pick the
// smallest instantiation that does (H up to 8 * 1024).
template <int kValues>
static __global__ void add_rms_norm_kernel(AddRmsNormParams p) {
  __shared__ float scratch[32];
  const long row = blockIdx.x;
  float* x = p.residual + row * p.dim;
  const __nv_bfloat16* d = p.delta ? p.delta + row * p.dim : nullptr;
  float v[kValues];
  float ss = 0.f;
#pragma unroll
  for (int j = 0; j < kValues; ++j) {
    const int i = threadIdx.x + j * blockDim.x;
    v[j] = 0.f;
    if (i < p.dim) {
      v[j] = x[i];
      if (d) {
        v[j] += __bfloat162float(d[i]);
        x[i] = v[j];
      }
      ss += v[j] * v[j];
    }
  }
  ss = detail::block_sum(ss, scratch);
  const float inv = rsqrtf(ss / p.dim + p.eps);
  __nv_bfloat16* y = p.out + row * p.dim;
#pragma unroll
  for (int j = 0; j < kValues; ++j) {
    const int i = threadIdx.x + j * blockDim.x;
    if (i < p.dim) y[i] = __float2bfloat16(v[j] * inv * __bfloat162float(p.weight[i]));
  }
}

void add_rms_norm(const AddRmsNormParams& p, cudaStream_t stream) {
  if (p.rows == 0) return;
  // Instantiations: 1, 2, 4 and 8 values per thread at up to 1024 threads.
  int threads = 32;
  while (threads < 1024 && threads < p.dim) threads *= 2;
  const int per = (p.dim + threads - 1) / threads;
  if (per <= 1)
    add_rms_norm_kernel<1><<<p.rows, threads, 0, stream>>>(p);
  else if (per <= 2)
    add_rms_norm_kernel<2><<<p.rows, threads, 0, stream>>>(p);
  else if (per <= 4)
    add_rms_norm_kernel<4><<<p.rows, threads, 0, stream>>>(p);
  else if (per <= 8)
    add_rms_norm_kernel<8><<<p.rows, threads, 0, stream>>>(p);
  else
    throw CudaError("add_rms_norm: hidden size " + std::to_string(p.dim) + " above 8192");
  PARKLOCK_CUDA_CHECK_LAUNCH();
}

}  // namespace parklock::kernels::cuda
