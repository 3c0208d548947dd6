// Row gather: row index[t] of a bf16 table becomes row t of the output.
// The token embedding (into the fp32 residual stream) and the selection of
// the rows whose logits are wanted (bf16, into the LM head) are both this.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime_api.h>

#include <cstdint>

namespace parklock::kernels::cuda {

template <typename Out>
struct GatherRowsParams {
  int num_rows = 0;                    // T
  int dim = 0;                         // H
  const int32_t* index = nullptr;      // [T] device, each in [0, table rows): the caller validates
  const __nv_bfloat16* table = nullptr;  // [rows, H] device
  Out* out = nullptr;                  // [T, H] device
};

// Instantiated for Out = float (embedding into the residual stream) and
// Out = __nv_bfloat16 (LM head input rows).
template <typename Out>
void gather_rows(const GatherRowsParams<Out>& p, cudaStream_t stream);

}  // namespace parklock::kernels::cuda
