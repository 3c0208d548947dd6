// The GEMM paths of kernels/cpu/gemm.h agree with a float64 product: sgemm,
// sgemv per row, and the small-M kernel, with strides, beta and remainders.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/cpu/gemm.h"

namespace parklock::engine::testing {
namespace {

using kernels::cpu::GemmNT;

struct Case {
  int m, n, k;
};

void check(const Case& s, float beta, bool small_m_kernel) {
  std::mt19937 rng(s.m * 1000 + s.n * 10 + s.k);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  const int lda = s.k + 3, ldb = s.k + 1, ldc = s.n + 5;  // strided, unaligned rows
  std::vector<float> a(static_cast<size_t>(s.m) * lda), b(static_cast<size_t>(s.n) * ldb),
      c(static_cast<size_t>(s.m) * ldc);
  for (auto& x : a) x = u(rng);
  for (auto& x : b) x = u(rng);
  for (auto& x : c) x = u(rng);
  const std::vector<float> c0 = c;
  const GemmNT p{.m = s.m, .n = s.n, .k = s.k, .a = a.data(), .lda = lda, .b = b.data(),
                 .ldb = ldb, .c = c.data(), .ldc = ldc, .alpha = 0.5f, .beta = beta};
  if (small_m_kernel)
    kernels::cpu::gemm_nt_small_m(p);
  else
    kernels::cpu::gemm_nt(p);
  for (int i = 0; i < s.m; ++i) {
    for (int j = 0; j < s.n; ++j) {
      double dot = 0;
      for (int x = 0; x < s.k; ++x) dot += double(a[i * lda + x]) * b[j * ldb + x];
      const double want = 0.5 * dot + beta * c0[i * ldc + j];
      ASSERT_NEAR(c[i * ldc + j], want, 1e-4 * (1 + std::abs(want)))
          << s.m << "x" << s.n << "x" << s.k << " at " << i << "," << j;
    }
    for (int j = s.n; j < ldc; ++j) ASSERT_EQ(c[i * ldc + j], c0[i * ldc + j]) << "wrote past n";
  }
}

TEST(Gemm, EveryPathMatchesFloat64) {
  const Case cases[] = {{1, 37, 64}, {2, 33, 300}, {3, 16, 257}, {4, 65, 512}, {5, 9, 7},
                        {7, 31, 300}, {9, 40, 100}, {16, 17, 64}, {2, 5, 3}};
  for (const Case& s : cases) {
    for (float beta : {0.f, 1.f}) {
      check(s, beta, false);
      if (kernels::cpu::small_m_kernel_available()) check(s, beta, true);
    }
  }
}

}  // namespace
}  // namespace parklock::engine::testing
