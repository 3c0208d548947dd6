#include "cblas.h"

#include <cstdio>
#include <cstdlib>

namespace {

[[noreturn]] void unsupported(const char* what) {
  std::fprintf(stderr, "portable_blas: unsupported %s\n", what);
  std::abort();
}

// Dot products accumulate in double: this stands in for the fp32 reference,
// so it should not add error of its own.
float dot(const float* x, int incx, const float* y, int incy, int n) {
  double s = 0;
  for (int i = 0; i < n; ++i) s += static_cast<double>(x[i * incx]) * y[i * incy];
  return static_cast<float>(s);
}

}  // namespace

extern "C" void cblas_sgemm(CBLAS_ORDER order, CBLAS_TRANSPOSE trans_a, CBLAS_TRANSPOSE trans_b,
                            int m, int n, int k, float alpha, const float* a, int lda,
                            const float* b, int ldb, float beta, float* c, int ldc) {
  if (order != CblasRowMajor || trans_a != CblasNoTrans) unsupported("sgemm layout");
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      const float ab = trans_b == CblasTrans ? dot(a + i * lda, 1, b + j * ldb, 1, k)
                                             : dot(a + i * lda, 1, b + j, ldb, k);
      float& out = c[i * ldc + j];
      out = alpha * ab + (beta == 0.f ? 0.f : beta * out);
    }
}

extern "C" void cblas_sgemv(CBLAS_ORDER order, CBLAS_TRANSPOSE trans, int m, int n, float alpha,
                            const float* a, int lda, const float* x, int incx, float beta, float* y,
                            int incy) {
  if (order != CblasRowMajor || trans != CblasNoTrans) unsupported("sgemv layout");
  for (int i = 0; i < m; ++i) {
    float& out = y[i * incy];
    out = alpha * dot(a + i * lda, 1, x, incx, n) + (beta == 0.f ? 0.f : beta * out);
  }
}

extern "C" void openblas_set_num_threads(int) {}
extern "C" int openblas_get_num_threads(void) { return 1; }
