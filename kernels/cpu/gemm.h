// Dense fp32 matrix multiply for projections: y = x · Wᵀ, with W stored as
// nn.Linear keeps it, [out, in].
#pragma once

namespace parklock::kernels::cpu {

// C = alpha * A · Bᵀ + beta * C, all row-major.
struct GemmNT {
  int m = 0;              // rows of A and C (tokens)
  int n = 0;              // rows of B, columns of C (output features)
  int k = 0;              // shared inner dimension (input features)
  const float* a = nullptr;  // [m, k], row stride lda
  int lda = 0;
  const float* b = nullptr;  // [n, k], row stride ldb (a weight, [out, in])
  int ldb = 0;
  float* c = nullptr;        // [m, n], row stride ldc
  int ldc = 0;
  float alpha = 1.f;
  // 0 overwrites C; 1 accumulates (residual adds and LoRA deltas use this).
  float beta = 0.f;
};

// Runs on OpenBLAS (cblas_sgemm). A zero-sized product is a no-op.
void gemm_nt(const GemmNT& p);

// Threads OpenBLAS may use per GEMM. OpenBLAS defaults to one per core
// (or OPENBLAS_NUM_THREADS); the CPU model calls GEMMs from one engine
// thread at a time, so that default is right unless other threads of the
// process compete for the same cores, in which case the engine lowers it:
// measured on 2 loaded cores, 1 thread beats 2 for the tiny and small
// models (OpenBLAS workers spin, then sleep, between GEMMs).
void set_gemm_threads(int threads);
int gemm_threads();

}  // namespace parklock::kernels::cpu
