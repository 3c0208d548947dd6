#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/embedding.cuh"

namespace parklock::kernels::cuda {
// One block per row; 8 bf16 (16 bytes) per thread per iteration when the
// row allows it, so every load is a 16-byte access.
template <typename Out>
static __global__ void gather_rows_kernel(GatherRowsParams<Out> p) {
  const int t = blockIdx.x;
  const __nv_bfloat16* src = p.table + static_cast<long>(p.index[t]) * p.dim;
  Out* dst = p.out + static_cast<long>(t) * p.dim;
  if (p.dim % 8 == 0) {
    for (int i = threadIdx.x * 8; i < p.dim; i += blockDim.x * 8) {
      const uint4 raw = *reinterpret_cast<const uint4*>(src + i);
      const __nv_bfloat16* v = reinterpret_cast<const __nv_bfloat16*>(&raw);
#pragma unroll
      for (int j = 0; j < 8; ++j) {
        if constexpr (sizeof(Out) == 4)
          dst[i + j] = __bfloat162float(v[j]);
        else
          dst[i + j] = v[j];
      }
    }
  } else {
    for (int i = threadIdx.x; i < p.dim; i += blockDim.x) {
      if constexpr (sizeof(Out) == 4)
        dst[i] = __bfloat162float(src[i]);
      else
        dst[i] = src[i];
    }
  }
}

template <typename Out>
void gather_rows(const GatherRowsParams<Out>& p, cudaStream_t stream) {
  if (p.num_rows == 0) return;
  gather_rows_kernel<Out><<<p.num_rows, 128, 0, stream>>>(p);
  PARKLOCK_CUDA_CHECK_LAUNCH();
}

template void gather_rows<float>(const GatherRowsParams<float>&, cudaStream_t);
template void gather_rows<__nv_bfloat16>(const GatherRowsParams<__nv_bfloat16>&, cudaStream_t);

}  // namespace parklock::kernels::cuda
