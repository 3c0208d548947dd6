// RMSNorm fused with the residual add of the sublayer before it:
//   residual += delta   (when delta is given; fp32 residual stream)
//   out = residual / sqrt(mean(residual²) + eps) * weight   (bf16)
// The residual stream stays fp32: summed over 2 adds per layer and tens of
// layers, bf16 rounding of the stream itself would dominate the error.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime_api.h>

namespace parklock::kernels::cuda {

struct AddRmsNormParams {
  int rows = 0;                           // T
  int dim = 0;                            // H
  float* residual = nullptr;              // [T, H] device, updated in place when delta is set
  const __nv_bfloat16* delta = nullptr;   // [T, H] device sublayer output, or null (norm only)
  const __nv_bfloat16* weight = nullptr;  // [H] device
  __nv_bfloat16* out = nullptr;           // [T, H] device normalised rows
  float eps = 1e-5f;
};

void add_rms_norm(const AddRmsNormParams& p, cudaStream_t stream);

}  // namespace parklock::kernels::cuda
