#include "kernels/cuda/gemm_lt.h"

#include <string>

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

const GemmLt::Plan& GemmLt::plan_for(const GemmParams& p) {
  const Key key{p.m, p.n, p.k, p.out_type, p.beta != 0.f};
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
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  const cublasStatus_t status = cublasLtMatmulAlgoGetHeuristic(handle_, plan.op, plan.a, plan.b, plan.c, plan.c, pref, 1, &result, &found);
  cublasLtMatmulPreferenceDestroy(pref);
  if (status != CUBLAS_STATUS_SUCCESS || found == 0) {
    cublasLtMatrixLayoutDestroy(plan.a);
    cublasLtMatrixLayoutDestroy(plan.b);
    cublasLtMatrixLayoutDestroy(plan.c);
    cublasLtMatmulDescDestroy(plan.op);
    throw CudaError("GemmLt: no cuBLASLt algorithm for m=" + std::to_string(p.m) + " n=" + std::to_string(p.n) +
                    " k=" + std::to_string(p.k) + " (status " + std::to_string(static_cast<int>(status)) + ")");
  }
  plan.algo = result.algo;
  return plans_.emplace(key, plan).first->second;
}

void GemmLt::run(const GemmParams& p, cudaStream_t stream) {
  if (p.m == 0 || p.n == 0) return;
  const Plan& plan = plan_for(p);
  const float alpha = 1.f;
  PARKLOCK_CUBLAS_CHECK(cublasLtMatmul(handle_, plan.op, &alpha, p.w, plan.a, p.x, plan.b, &p.beta, p.y, plan.c,
                                       p.y, plan.c, &plan.algo, workspace_.data(), workspace_.bytes(), stream));
}

}  // namespace parklock::kernels::cuda
