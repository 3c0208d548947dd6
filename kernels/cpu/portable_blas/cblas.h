// The slice of the CBLAS/OpenBLAS interface kernels/cpu/gemm.cpp calls, for
// builds without OpenBLAS (PARKLOCK_CUDA_ONLY on a GPU machine that has no
// Debian dev packages): there the CPU kernels are only the reference the
// CUDA parity tests compare against, on small shapes, so plain loops do.
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

enum CBLAS_ORDER { CblasRowMajor = 101, CblasColMajor = 102 };
enum CBLAS_TRANSPOSE { CblasNoTrans = 111, CblasTrans = 112 };

// Row-major only; sgemm supports (NoTrans, Trans) and (NoTrans, NoTrans),
// sgemv NoTrans: what gemm.cpp uses. Anything else aborts.
void cblas_sgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE trans_a, enum CBLAS_TRANSPOSE trans_b,
                 int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb,
                 float beta, float* c, int ldc);
void cblas_sgemv(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE trans, int m, int n, float alpha,
                 const float* a, int lda, const float* x, int incx, float beta, float* y, int incy);
void openblas_set_num_threads(int threads);
int openblas_get_num_threads(void);

#ifdef __cplusplus
}
#endif
