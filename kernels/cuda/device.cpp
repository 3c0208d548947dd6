#include "kernels/cuda/device.h"

#include "kernels/cuda/cuda_check.h"

namespace parklock::kernels::cuda {
namespace {

struct Probe {
  bool available = false;
  std::string reason;
};

const Probe& probe() {
  static const Probe result = [] {
    Probe p;
    int count = 0;
    const cudaError_t status = cudaGetDeviceCount(&count);
    if (status != cudaSuccess) {
      p.reason = std::string(cudaGetErrorName(status)) + ": " + cudaGetErrorString(status);
      (void)cudaGetLastError();  // clear the sticky-free error so later calls start clean
    } else if (count == 0) {
      p.reason = "no CUDA device";
    } else {
      p.available = true;
    }
    return p;
  }();
  return result;
}

}  // namespace

void throw_cuda_error(cudaError_t status, const char* expr, const char* file, int line) {
  throw CudaError(std::string(file) + ":" + std::to_string(line) + ": " + expr + " failed: " +
                  cudaGetErrorName(status) + " (" + cudaGetErrorString(status) + ")");
}

void throw_cublas_error(cublasStatus_t status, const char* expr, const char* file, int line) {
  throw CudaError(std::string(file) + ":" + std::to_string(line) + ": " + expr +
                  " failed: cuBLAS status " + std::to_string(static_cast<int>(status)));
}

bool cuda_device_available() { return probe().available; }

std::string cuda_unavailable_reason() { return probe().reason; }

DeviceInfo device_info() {
  if (!cuda_device_available()) throw CudaError("no CUDA device: " + cuda_unavailable_reason());
  cudaDeviceProp prop{};
  PARKLOCK_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  return DeviceInfo{.name = prop.name,
                    .sm_count = prop.multiProcessorCount,
                    .compute_major = prop.major,
                    .compute_minor = prop.minor,
                    .global_bytes = prop.totalGlobalMem,
                    .l2_bytes = static_cast<size_t>(prop.l2CacheSize)};
}

}  // namespace parklock::kernels::cuda
