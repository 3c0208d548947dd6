#include "kernels/cuda/gemm_lt.h"

#include <algorithm>
#include <string>
#include <vector>

namespace parklock::kernels::cuda {

GemmLt::GemmLt(size_t workspace_bytes) : workspace_(workspace_bytes) {
  PARKLOCK_CUBLAS_CHECK(cublasLtCreate(&handle_));
}

GemmLt::~GemmLt() {
  for (auto& [key, plan] : plans_) {
    cublasLtMatrixLayoutDestroy(plan.a);
    cublasLtMatrixLayoutDestroy(plan.b);
    cublasLtMatrixLayoutDestroy(plan.c);
    cublasLtMatmulDescDestroy(plan.op);
  }
  if (handle_) cublasLtDestroy(handle_);
}

// Median of 5 timed runs per candidate after one warm-up; candidates that
// fail to run are skipped.
cublasLtMatmulAlgo_t GemmLt::fastest(const GemmParams& p, const Plan& plan,
                                     const cublasLtMatmulHeuristicResult_t* results, int count, cudaStream_t stream) {
  cudaEvent_t start, stop;
  PARKLOCK_CUDA_CHECK(cudaEventCreate(&start));
  PARKLOCK_CUDA_CHECK(cudaEventCreate(&stop));
  const float alpha = 1.f;
  int best = 0;
  float best_ms = 0;
  for (int c = 0; c < count; ++c) {
    auto launch = [&] {
      return cublasLtMatmul(handle_, plan.op, &alpha, p.w, plan.a, p.x, plan.b, &p.beta, p.y, plan.c, p.y, plan.c,
                            &results[c].algo, workspace_.data(), workspace_.bytes(), stream);
    };
    if (launch() != CUBLAS_STATUS_SUCCESS) continue;
    std::vector<float> ms;
    for (int r = 0; r < 5; ++r) {
      PARKLOCK_CUDA_CHECK(cudaEventRecord(start, stream));
      PARKLOCK_CUBLAS_CHECK(launch());
      PARKLOCK_CUDA_CHECK(cudaEventRecord(stop, stream));
      PARKLOCK_CUDA_CHECK(cudaEventSynchronize(stop));
      float t = 0;
      PARKLOCK_CUDA_CHECK(cudaEventElapsedTime(&t, start, stop));
      ms.push_back(t);
    }
    std::sort(ms.begin(), ms.end());
    if (c == 0 || ms[2] < best_ms) {
      best = c;
      best_ms = ms[2];
    }
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return results[best].algo;
}

const GemmLt::Plan& GemmLt::plan_for(const GemmParams& p, cudaStream_t stream) {
  const Key key{p.m, p.n, p.k, p.out_type, p.beta != 0.f, p.tune && p.beta == 0.f};
  if (auto it = plans_.find(key); it != plans_.end()) return it->second;

  Plan plan;
  const cudaDataType_t out_type = p.out_type == GemmOutType::kBf16 ? CUDA_R_16BF : CUDA_R_32F;
  PARKLOCK_CUBLAS_CHECK(cublasLtMatmulDescCreate(&plan.op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
  const cublasOperation_t trans = CUBLAS_OP_T, no_trans = CUBLAS_OP_N;
  PARKLOCK_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(plan.op, CUBLASLT_MATMUL_DESC_TRANSA, &trans, sizeof trans));
  PARKLOCK_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(plan.op, CUBLASLT_MATMUL_DESC_TRANSB, &no_trans, sizeof no_trans));
  PARKLOCK_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&plan.a, CUDA_R_16BF, p.k, p.n, p.k));  // W as k × n
  PARKLOCK_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&plan.b, CUDA_R_16BF, p.k, p.m, p.k));  // x as k × m
  PARKLOCK_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&plan.c, out_type, p.n, p.m, p.n));     // y as n × m

  cublasLtMatmulPreference_t pref = nullptr;
  PARKLOCK_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
  const size_t ws = workspace_.bytes();
  PARKLOCK_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws));
  cublasLtMatmulHeuristicResult_t results[kTunedCandidates] = {};
  const int wanted = p.tune && p.beta == 0.f ? kTunedCandidates : 1;
  int found = 0;
  const cublasStatus_t status = cublasLtMatmulAlgoGetHeuristic(handle_, plan.op, plan.a, plan.b, plan.c, plan.c, pref,
                                                               wanted, results, &found);
  cublasLtMatmulPreferenceDestroy(pref);
  if (status != CUBLAS_STATUS_SUCCESS || found == 0) {
    cublasLtMatrixLayoutDestroy(plan.a);
    cublasLtMatrixLayoutDestroy(plan.b);
    cublasLtMatrixLayoutDestroy(plan.c);
    cublasLtMatmulDescDestroy(plan.op);
    throw CudaError("GemmLt: no cuBLASLt algorithm for m=" + std::to_string(p.m) + " n=" + std::to_string(p.n) +
                    " k=" + std::to_string(p.k) + " (status " + std::to_string(static_cast<int>(status)) + ")");
  }
  plan.algo = found > 1 ? fastest(p, plan, results, found, stream) : results[0].algo;
  return plans_.emplace(key, plan).first->second;
}

void GemmLt::run(const GemmParams& p, cudaStream_t stream) {
  if (p.m == 0 || p.n == 0) return;
  const Plan& plan = plan_for(p, stream);
  const float alpha = 1.f;
  PARKLOCK_CUBLAS_CHECK(cublasLtMatmul(handle_, plan.op, &alpha, p.w, plan.a, p.x, plan.b, &p.beta, p.y, plan.c,
                                       p.y, plan.c, &plan.algo, workspace_.data(), workspace_.bytes(), stream));
}

}  // namespace parklock::kernels::cuda
