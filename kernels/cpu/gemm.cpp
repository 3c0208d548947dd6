#include "kernels/cpu/gemm.h"

#include <cblas.h>

#include <algorithm>
#include <stdexcept>

namespace parklock::kernels::cpu {
void gemm_nt(const GemmNT& p) {
  if (p.m == 0 || p.n == 0) return;
  if (p.k == 0) {
    // BLAS would scale C by beta; keep that meaning for empty inner dims.
    for (int i = 0; i < p.m; ++i)
      for (int j = 0; j < p.n; ++j) p.c[i * p.ldc + j] *= p.beta;
    return;
  }
  if (p.m <= kSmallM) {
    // A decode step of a few sequences. OpenBLAS's sgemm packs both
    // operands even for one row, which costs more than the product itself
    // at this M (gemm_bench: at M = 2-4 it is slower than M separate
    // sgemv calls), so batching would lose to running sequences one by one.
    // Long rows (real models) take the kernel that streams each weight row
    // once for all of A's rows; short rows (k < 256, where that kernel's
    // per-dot reductions dominate) take one sgemv per row.
    if (p.m > 1 && p.k >= kSmallMMinK && small_m_kernel_available()) {
      gemm_nt_small_m(p);
      return;
    }
    for (int i = 0; i < p.m; ++i) {
      float* c = p.c + static_cast<long>(i) * p.ldc;
      // With beta 0 some OpenBLAS versions still compute 0 * y, turning
      // garbage (NaN) in a caller's fresh buffer into NaN: clear it first.
      if (p.beta == 0.f) std::fill_n(c, p.n, 0.f);
      cblas_sgemv(CblasRowMajor, CblasNoTrans, p.n, p.k, p.alpha, p.b, p.ldb,
                  p.a + static_cast<long>(i) * p.lda, 1, p.beta, c, 1);
    }
    return;
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, p.m, p.n, p.k, p.alpha, p.a, p.lda, p.b,
              p.ldb, p.beta, p.c, p.ldc);
}

void set_gemm_threads(int threads) {
  if (threads < 1) throw std::invalid_argument("set_gemm_threads: need at least 1 thread");
  openblas_set_num_threads(threads);
}

int gemm_threads() { return openblas_get_num_threads(); }

}  // namespace parklock::kernels::cpu
