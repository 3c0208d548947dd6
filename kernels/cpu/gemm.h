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

// Rows of A up to which gemm_nt avoids sgemm, and the inner size from which
// it uses gemm_nt_small_m there rather than one sgemv per row. Measured with
// gemm_bench (kernels/cpu/README.md): above 4 rows sgemm wins again.
inline constexpr int kSmallM = 4;
inline constexpr int kSmallMMinK = 256;

// Runs on OpenBLAS: for m <= kSmallM, sgemv per row or (k >=
// kSmallMMinK, m > 1) gemm_nt_small_m; sgemm above. So a batch of a few
// rows is never slower than the same rows one at a time. A zero-sized
// product is a no-op.
void gemm_nt(const GemmNT& p);

// The small-M path on its own (benchmarks compare it with sgemm): reads
// each row of B once per four rows of A. Single-threaded; any m works.
// Needs AVX2 and FMA: call only when small_m_kernel_available().
void gemm_nt_small_m(const GemmNT& p);
bool small_m_kernel_available();

// Threads OpenBLAS may use per GEMM. OpenBLAS defaults to one per core
// (or OPENBLAS_NUM_THREADS); the CPU model calls GEMMs from one engine
// thread at a time, so that default is right unless other threads of the
// process compete for the same cores, in which case the engine lowers it:
// measured on 2 loaded cores, 1 thread beats 2 for the tiny and small
// models (OpenBLAS workers spin, then sleep, between GEMMs).
void set_gemm_threads(int threads);
int gemm_threads();

}  // namespace parklock::kernels::cpu
