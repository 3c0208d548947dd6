// cuBLASLt projections against cpu::gemm_nt on the same bf16-rounded
// operands. With fp32 accumulation the only differences are summation order
// (~1e-6 relative at these depths) and, for bf16 outputs, one rounding
// (<= 2^-9): 3e-3 relative L2 for bf16 out, 1e-4 for fp32 out.
#include "cuda_test_util.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cuda/gemm_lt.h"

namespace parklock::kernels::cuda::testing {
namespace {

struct GemmCase {
  int m, n, k;
};

TEST(GemmLt, MatchesCpuGemmForDecodeAndPrefillShapes) {
  PARKLOCK_REQUIRE_CUDA_DEVICE();
  std::mt19937 rng(31);
  GemmLt gemm;
  for (const GemmCase c : {GemmCase{1, 2560, 2048}, GemmCase{7, 344, 64}, GemmCase{64, 11264, 2048},
                           GemmCase{333, 2048, 5632}, GemmCase{3, 259, 64}}) {
    std::vector<float> x = random_floats(static_cast<size_t>(c.m) * c.k, rng);
    std::vector<float> w = random_floats(static_cast<size_t>(c.n) * c.k, rng, 0.001f, 0.05f);
    auto d_x = to_device(to_bf16_rounding(x));
    auto d_w = to_device(to_bf16_rounding(w));
    std::vector<float> ref(static_cast<size_t>(c.m) * c.n);
    cpu::gemm_nt({.m = c.m, .n = c.n, .k = c.k, .a = x.data(), .lda = c.k, .b = w.data(), .ldb = c.k,
                  .c = ref.data(), .ldc = c.n});
    const std::string what = std::to_string(c.m) + "x" + std::to_string(c.n) + "x" + std::to_string(c.k);

    auto d_bf = poisoned<bf16>(ref.size());
    gemm.run({.m = c.m, .n = c.n, .k = c.k, .x = d_x.data(), .w = d_w.data(), .y = d_bf.data()}, nullptr);
    const double err_bf = rel_l2(to_float(to_host(d_bf)), ref);
    EXPECT_LT(err_bf, 3e-3) << what;

    auto d_f = poisoned<float>(ref.size());
    gemm.run({.m = c.m, .n = c.n, .k = c.k, .x = d_x.data(), .w = d_w.data(), .y = d_f.data(),
              .out_type = GemmOutType::kF32},
             nullptr);
    const double err_f = rel_l2(to_host(d_f), ref);
    EXPECT_LT(err_f, 1e-4) << what;

    // beta = 1 accumulates onto what y holds (fp32 here: the residual path).
    std::vector<float> base = random_floats(ref.size(), rng);
    auto d_acc = to_device(base);
    gemm.run({.m = c.m, .n = c.n, .k = c.k, .x = d_x.data(), .w = d_w.data(), .y = d_acc.data(),
              .out_type = GemmOutType::kF32, .beta = 1.f},
             nullptr);
    for (size_t i = 0; i < base.size(); ++i) base[i] += ref[i];
    EXPECT_LT(rel_l2(to_host(d_acc), base), 1e-4) << what;
    std::printf("gemm %s: rel L2 bf16-out %.2e fp32-out %.2e\n", what.c_str(), err_bf, err_f);
  }
  EXPECT_EQ(gemm.cached_plans(), 15u) << "one plan per (shape, out type, beta)";
}

}  // namespace
}  // namespace parklock::kernels::cuda::testing
