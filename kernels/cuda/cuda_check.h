// Error checking for every CUDA runtime and cuBLASLt call: a failure throws
// CudaError naming the expression, the file and the line. Kernel launches
// are followed by PARKLOCK_CUDA_CHECK_LAUNCH() (the launch error; execution
// errors surface at the next synchronising call, which is checked too).
#pragma once

#include <cublasLt.h>
#include <cuda_runtime_api.h>

#include <stdexcept>
#include <string>

namespace parklock::kernels::cuda {

class CudaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

[[noreturn]] void throw_cuda_error(cudaError_t status, const char* expr, const char* file,
                                   int line);
[[noreturn]] void throw_cublas_error(cublasStatus_t status, const char* expr, const char* file,
                                     int line);

}  // namespace parklock::kernels::cuda

#define PARKLOCK_CUDA_CHECK(expr)                                                         \
  do {                                                                                    \
    const cudaError_t parklock_status_ = (expr);                                          \
    if (parklock_status_ != cudaSuccess)                                                  \
      ::parklock::kernels::cuda::throw_cuda_error(parklock_status_, #expr, __FILE__, __LINE__); \
  } while (0)

#define PARKLOCK_CUDA_CHECK_LAUNCH() PARKLOCK_CUDA_CHECK(cudaGetLastError())

#define PARKLOCK_CUBLAS_CHECK(expr)                                                         \
  do {                                                                                      \
    const cublasStatus_t parklock_status_ = (expr);                                         \
    if (parklock_status_ != CUBLAS_STATUS_SUCCESS)                                          \
      ::parklock::kernels::cuda::throw_cublas_error(parklock_status_, #expr, __FILE__, __LINE__); \
  } while (0)
