// Whether a CUDA device can be used, and what it is. Runtime API only:
// works (and answers false) on machines without a GPU or without a driver.
#pragma once

#include <string>

namespace parklock::kernels::cuda {

// True when cudaGetDeviceCount succeeds with at least one device. Never
// throws; the answer is computed once per process.
bool cuda_device_available();

// Why no device is usable (the runtime's error text), or "" when one is.
std::string cuda_unavailable_reason();

struct DeviceInfo {
  std::string name;
  int sm_count = 0;          // multiprocessors
  int compute_major = 0;     // 9 on Hopper
  int compute_minor = 0;
  size_t global_bytes = 0;
  size_t l2_bytes = 0;
};

// Device 0's properties. Throws CudaError when no device is available.
DeviceInfo device_info();

}  // namespace parklock::kernels::cuda
