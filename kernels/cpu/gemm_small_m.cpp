// The small-M GEMM kernel. This file alone is compiled for AVX2 + FMA
// (kernels/CMakeLists.txt); gemm_nt calls it only when the CPU has both.
#include "kernels/cpu/gemm.h"

namespace parklock::kernels::cpu {
namespace {

// Eight floats in one AVX register.
typedef float Vec8 __attribute__((vector_size(32)));

Vec8 load8(const float* p) {
  Vec8 v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}

float sum8(Vec8 v) {
  float s = 0.f;
  for (int i = 0; i < 8; ++i) s += v[i];
  return s;
}

// One MR x NR tile of C: rows [i, i+MR) of A against weight rows [j, j+NR)
// of B. MR * NR independent vector accumulators keep the FMA units busy and
// each loaded vector feeds several multiply-adds; 4 x 2 accumulators plus
// the six loads fit AVX2's sixteen registers. Each weight row is read once
// per MR rows of A.
template <int MR, int NR>
void small_m_tile(const GemmNT& p, int i, int j) {
  const float* a[MR];
  const float* b[NR];
  for (int r = 0; r < MR; ++r) a[r] = p.a + static_cast<long>(i + r) * p.lda;
  for (int c = 0; c < NR; ++c) b[c] = p.b + static_cast<long>(j + c) * p.ldb;
  Vec8 acc[MR][NR] = {};
  const int k8 = p.k / 8 * 8;
  for (int x = 0; x < k8; x += 8) {
    Vec8 bv[NR];
    for (int c = 0; c < NR; ++c) bv[c] = load8(b[c] + x);
    for (int r = 0; r < MR; ++r) {
      const Vec8 av = load8(a[r] + x);
      for (int c = 0; c < NR; ++c) acc[r][c] += av * bv[c];
    }
  }
  for (int r = 0; r < MR; ++r) {
    float* out = p.c + static_cast<long>(i + r) * p.ldc + j;
    for (int c = 0; c < NR; ++c) {
      float dot = sum8(acc[r][c]);
      for (int x = k8; x < p.k; ++x) dot += a[r][x] * b[c][x];
      out[c] = p.alpha * dot + (p.beta == 0.f ? 0.f : p.beta * out[c]);
    }
  }
}

// Rows [i, i+MR) of C, all columns: tiles of 2 weight rows, then the last one.
template <int MR>
void small_m_rows(const GemmNT& p, int i) {
  // Eight accumulators where the registers allow (4 x 2, 2 x 4, 1 x 4): FMA
  // latency is four cycles at two per cycle, so eight chains keep it busy.
  constexpr int kNr = MR >= 3 ? 2 : 4;
  int j = 0;
  for (; j + kNr <= p.n; j += kNr) small_m_tile<MR, kNr>(p, i, j);
  for (; j < p.n; ++j) small_m_tile<MR, 1>(p, i, j);
}

}  // namespace

void gemm_nt_small_m(const GemmNT& p) {
  int i = 0;
  for (; i + 4 <= p.m; i += 4) small_m_rows<4>(p, i);
  switch (p.m - i) {
    case 3: small_m_rows<3>(p, i); break;
    case 2: small_m_rows<2>(p, i); break;
    case 1: small_m_rows<1>(p, i); break;
    default: break;
  }
}

bool small_m_kernel_available() {
  static const bool available = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return available;
}

}  // namespace parklock::kernels::cpu
