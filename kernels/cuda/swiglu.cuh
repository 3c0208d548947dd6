// SwiGLU of Llama's MLP on the fused gate_up projection output:
//   out = silu(gate) * up,  gate = gate_up[:, 0:F), up = gate_up[:, F:2F).
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime_api.h>

namespace parklock::kernels::cuda {

struct SwigluParams {
  int rows = 0;                            // T
  int dim = 0;                             // F
  const __nv_bfloat16* gate_up = nullptr;  // [T, 2F] device
  __nv_bfloat16* out = nullptr;            // [T, F] device
};

void swiglu(const SwigluParams& p, cudaStream_t stream);

}  // namespace parklock::kernels::cuda
