// Projections on cuBLASLt: y = x · Wᵀ (+ beta · y), bf16 operands, fp32
// accumulation and scaling, output bf16 or fp32. W is an nn.Linear weight
// [out, in], row-major, as kernels/cpu/gemm.h; fused weights (q/k/v stacked,
// gate/up stacked) make one GEMM each.
//
// Row-major y[m, n] = x[m, k] · W[n, k]ᵀ is, in cuBLAS's column-major
// terms, Y(n × m) = Wᵀ-op(k × n as stored) · X(k × m): TRANSA = T, TRANSB = N
// ("TN", the layout cuBLASLt serves best on Hopper).
//
// Each shape's heuristic choice is looked up once and cached, so steady
// state (and CUDA graph capture, which must not allocate) only calls
// cublasLtMatmul. Shapes that recur every step (the decode buckets) may ask
// to be tuned: on first use the heuristic's best kTunedCandidates are timed
// on the real operands and the fastest is cached (cuBLASLt's first choice
// is not always the fastest at M = 1..16, where a GEMM is a weight stream).
// Not thread-safe: one GemmLt per stream owner.
#pragma once

#include <cublasLt.h>
#include <cuda_bf16.h>
#include <cuda_runtime_api.h>

#include <map>
#include <tuple>

#include "kernels/cuda/device_buffer.h"

namespace parklock::kernels::cuda {

// 32 MiB: what NVIDIA's cuBLAS documentation recommends for Hopper (its
// largest-tile kernels and split-K reductions need it); 4 MiB is enough on
// earlier architectures.
inline constexpr size_t kHopperGemmWorkspaceBytes = 32u << 20;
inline constexpr int kTunedCandidates = 8;

enum class GemmOutType { kBf16, kF32 };

struct GemmParams {
  int m = 0;  // rows of x and y (tokens)
  int n = 0;  // output features (rows of W)
  int k = 0;  // input features
  const __nv_bfloat16* x = nullptr;  // [m, k] device, row-major, 16-byte aligned
  const __nv_bfloat16* w = nullptr;  // [n, k] device, row-major
  void* y = nullptr;                 // [m, n] device, row-major, of out_type
  GemmOutType out_type = GemmOutType::kBf16;
  float beta = 0.f;  // 0 overwrites y, 1 accumulates into it
  // Time the candidates on first use of this shape (beta must be 0: the
  // timing runs overwrite y). Synchronises the stream once; never while
  // capturing a graph (capture only after a first eager run).
  bool tune = false;
};

class GemmLt {
 public:
  explicit GemmLt(size_t workspace_bytes = kHopperGemmWorkspaceBytes);
  ~GemmLt();
  GemmLt(const GemmLt&) = delete;
  GemmLt& operator=(const GemmLt&) = delete;

  // A zero-sized product is a no-op. Throws CudaError when cuBLASLt finds
  // no algorithm for the shape or a call fails.
  void run(const GemmParams& p, cudaStream_t stream);

  size_t cached_plans() const { return plans_.size(); }

 private:
  struct Plan {
    cublasLtMatmulDesc_t op = nullptr;
    cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
    cublasLtMatmulAlgo_t algo{};
  };
  using Key = std::tuple<int, int, int, GemmOutType, bool, bool>;  // m, n, k, out type, accumulate, tuned
  const Plan& plan_for(const GemmParams& p, cudaStream_t stream);
  cublasLtMatmulAlgo_t fastest(const GemmParams& p, const Plan& plan, const cublasLtMatmulHeuristicResult_t* results,
                               int count, cudaStream_t stream);

  cublasLtHandle_t handle_ = nullptr;
  DeviceBuffer<unsigned char> workspace_;
  std::map<Key, Plan> plans_;
};

}  // namespace parklock::kernels::cuda
