#include <algorithm>
#include <vector>

#include "bench/cuda/copy_bandwidth.cuh"
#include "kernels/cuda/cuda_check.h"

namespace parklock::bench {

// Four independent 16-byte loads in flight per thread before the stores.
static __global__ void copy_kernel(const uint4* __restrict__ src, uint4* __restrict__ dst, size_t n) {
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x;
  for (; i + 3 * stride < n; i += 4 * stride) {
    const uint4 a = src[i], b = src[i + stride], c = src[i + 2 * stride], d = src[i + 3 * stride];
    dst[i] = a;
    dst[i + stride] = b;
    dst[i + 2 * stride] = c;
    dst[i + 3 * stride] = d;
  }
  for (; i < n; i += stride) dst[i] = src[i];
}

// Non-zero contents (METHOD: never time on zeros).
static __global__ void fill_kernel(uint4* dst, size_t n) {
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<size_t>(gridDim.x) * blockDim.x) {
    const unsigned h = static_cast<unsigned>(i * 2654435761u) | 1u;
    dst[i] = make_uint4(h, h ^ 0x5bd1e995u, h * 3u, h + 0x9e3779b9u);
  }
}

CopyBandwidth measure_copy_bandwidth(size_t bytes, int repeats) {
  const size_t n = bytes / sizeof(uint4);
  uint4 *a = nullptr, *b = nullptr;
  PARKLOCK_CUDA_CHECK(cudaMalloc(&a, n * sizeof(uint4)));
  PARKLOCK_CUDA_CHECK(cudaMalloc(&b, n * sizeof(uint4)));
  cudaEvent_t start, stop;
  PARKLOCK_CUDA_CHECK(cudaEventCreate(&start));
  PARKLOCK_CUDA_CHECK(cudaEventCreate(&stop));
  int sms = 0;
  PARKLOCK_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
  fill_kernel<<<sms * 8, 256>>>(a, n);
  PARKLOCK_CUDA_CHECK_LAUNCH();
  fill_kernel<<<sms * 8, 256>>>(b, n);
  PARKLOCK_CUDA_CHECK_LAUNCH();

  auto median_gbps = [&](auto&& launch) {
    std::vector<float> ms;
    for (int r = 0; r < repeats + 2; ++r) {  // two warm-ups
      PARKLOCK_CUDA_CHECK(cudaEventRecord(start));
      launch(r % 2 ? b : a, r % 2 ? a : b);
      PARKLOCK_CUDA_CHECK(cudaEventRecord(stop));
      PARKLOCK_CUDA_CHECK(cudaEventSynchronize(stop));
      float t = 0;
      PARKLOCK_CUDA_CHECK(cudaEventElapsedTime(&t, start, stop));
      if (r >= 2) ms.push_back(t);
    }
    std::sort(ms.begin(), ms.end());
    return 2.0 * n * sizeof(uint4) / (ms[ms.size() / 2] * 1e-3) / 1e9;
  };
  CopyBandwidth result;
  result.kernel_gbps = median_gbps([&](const uint4* src, uint4* dst) {
    copy_kernel<<<sms * 4, 512>>>(src, dst, n);
    PARKLOCK_CUDA_CHECK_LAUNCH();
  });
  result.memcpy_gbps = median_gbps([&](const uint4* src, uint4* dst) {
    PARKLOCK_CUDA_CHECK(cudaMemcpyAsync(dst, src, n * sizeof(uint4), cudaMemcpyDeviceToDevice));
  });
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  cudaFree(a);
  cudaFree(b);
  return result;
}

}  // namespace parklock::bench
