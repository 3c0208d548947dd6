// Small-M GEMM paths side by side at the shapes of a decode step:
// OpenBLAS sgemm, M calls of sgemv, and gemm_nt_small_m, for M = 1..16 on
// TinyLlama's projections (H 2048, F 5632) and the tiny model's (H 64).
// Single-threaded: the compute pool splits columns across threads itself.
//   gemm_bench --benchmark_filter=2048
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <random>
#include <vector>

#include "kernels/cpu/gemm.h"

namespace {

using parklock::kernels::cpu::GemmNT;

enum Path { kSgemm, kSgemvLoop, kSmallM };

void run_gemm(benchmark::State& state, Path path) {
  const int m = static_cast<int>(state.range(0));
  const int n = static_cast<int>(state.range(1));
  const int k = static_cast<int>(state.range(2));
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> a(static_cast<size_t>(m) * k), b(static_cast<size_t>(n) * k),
      c(static_cast<size_t>(m) * n);
  for (auto& x : a) x = u(rng);
  for (auto& x : b) x = u(rng);
  const GemmNT p{.m = m, .n = n, .k = k, .a = a.data(), .lda = k, .b = b.data(), .ldb = k,
                 .c = c.data(), .ldc = n};
  parklock::kernels::cpu::set_gemm_threads(1);
  for (auto _ : state) {
    switch (path) {
      case kSgemm:
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.f, p.a, k, p.b, k, 0.f,
                    p.c, n);
        break;
      case kSgemvLoop:
        for (int i = 0; i < m; ++i)
          cblas_sgemv(CblasRowMajor, CblasNoTrans, n, k, 1.f, p.b, k, p.a + i * k, 1, 0.f,
                      p.c + i * n, 1);
        break;
      case kSmallM:
        if (!parklock::kernels::cpu::small_m_kernel_available()) state.SkipWithError("no AVX2");
        parklock::kernels::cpu::gemm_nt_small_m(p);
        break;
    }
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["weight_GB/s"] = benchmark::Counter(
      static_cast<double>(b.size()) * sizeof(float) * static_cast<double>(state.iterations()) / 1e9,
      benchmark::Counter::kIsRate);
}

void shapes(benchmark::internal::Benchmark* bench) {
  for (int m : {1, 2, 4, 8, 16}) {
    bench->Args({m, 2048, 2048});  // TinyLlama q/o projection
    bench->Args({m, 11264, 2048});  // TinyLlama gate_up
    bench->Args({m, 256, 64});     // tiny model's fused qkv + gate_up scale
  }
}

BENCHMARK_CAPTURE(run_gemm, sgemm, kSgemm)->Apply(shapes)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(run_gemm, sgemv_loop, kSgemvLoop)->Apply(shapes)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(run_gemm, small_m, kSmallM)->Apply(shapes)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
