// The row-wise kernels against their CPU twins (kernels/cpu): embedding
// gather, residual add + RMSNorm, SwiGLU, and RoPE fused with the KV write.
// Inputs are rounded to bf16 first, so the CPU reference sees exactly what
// the GPU reads; what remains is the GPU's fp32 arithmetic and one bf16
// rounding of each output (relative error <= 2^-9 round-to-nearest).
#include <numeric>

#include "cuda_test_util.h"
#include "kernels/cpu/embedding.h"
#include "kernels/cpu/paged_kv.h"
#include "kernels/cpu/rms_norm.h"
#include "kernels/cpu/rope.h"
#include "kernels/cpu/swiglu.h"
#include "kernels/cuda/embedding.cuh"
#include "kernels/cuda/rms_norm.cuh"
#include "kernels/cuda/rope_kv.cuh"
#include "kernels/cuda/swiglu.cuh"

namespace parklock::kernels::cuda::testing {
namespace {

// One bf16 rounding (2^-9) plus fp32 evaluation-order differences.
constexpr double kOneRounding = 1.0 / 256;

TEST(GatherRows, EmbeddingIsExact) {
  PARKLOCK_REQUIRE_CUDA_DEVICE();
  std::mt19937 rng(1);
  const int vocab = 259, dim = 200, t = 37;  // dim % 8 == 0: the 16-byte path
  for (int d : {dim, 77}) {                  // and an odd width: the scalar path
    std::vector<float> table = random_floats(static_cast<size_t>(vocab) * d, rng);
    const auto table_bf = to_bf16_rounding(table);
    std::vector<int32_t> tokens(t);
    for (auto& x : tokens) x = std::uniform_int_distribution<int>(0, vocab - 1)(rng);
    auto d_table = to_device(table_bf);
    auto d_tokens = to_device(tokens);
    auto d_out = poisoned<float>(static_cast<size_t>(t) * d);
    gather_rows<float>({.num_rows = t, .dim = d, .index = d_tokens.data(), .table = d_table.data(), .out = d_out.data()}, nullptr);
    std::vector<float> ref(static_cast<size_t>(t) * d);
    cpu::embedding({.num_tokens = t, .dim = d, .tokens = tokens.data(), .table = table.data(), .out = ref.data()});
    EXPECT_EQ(to_host(d_out), ref) << "dim " << d;  // bf16 -> fp32 is exact
  }
}

TEST(AddRmsNorm, MatchesCpuAddThenNorm) {
  PARKLOCK_REQUIRE_CUDA_DEVICE();
  std::mt19937 rng(2);
  for (const int dim : {64, 2048, 1000, 4099}) {
    const int rows = 13;
    std::vector<float> x = random_floats(static_cast<size_t>(rows) * dim, rng, 0.1f, 3.f);
    std::vector<float> delta = random_floats(x.size(), rng);
    std::vector<float> weight = random_floats(dim, rng, 0.5f, 1.5f);
    const auto delta_bf = to_bf16_rounding(delta);
    const auto weight_bf = to_bf16_rounding(weight);
    auto d_x = to_device(x);
    auto d_delta = to_device(delta_bf);
    auto d_w = to_device(weight_bf);
    auto d_out = poisoned<bf16>(x.size());
    add_rms_norm({.rows = rows, .dim = dim, .residual = d_x.data(), .delta = d_delta.data(), .weight = d_w.data(),
                  .out = d_out.data(), .eps = 1e-5f},
                 nullptr);
    for (size_t i = 0; i < x.size(); ++i) x[i] += delta[i];
    std::vector<float> ref(x.size());
    cpu::rms_norm({.rows = rows, .dim = dim, .in = x.data(), .in_stride = dim, .weight = weight.data(),
                   .out = ref.data(), .out_stride = dim, .eps = 1e-5f});
    // The fp32 residual add is the same IEEE operation on both sides.
    EXPECT_EQ(to_host(d_x), x) << "dim " << dim;
    const std::vector<float> out = to_float(to_host(d_out));
    EXPECT_EQ(count_outside(out, ref, kOneRounding, 1e-6), 0) << "dim " << dim;
    EXPECT_LT(rel_l2(out, ref), 3e-3) << "dim " << dim;
  }
}

TEST(AddRmsNorm, NormOnlyLeavesResidual) {
  PARKLOCK_REQUIRE_CUDA_DEVICE();
  std::mt19937 rng(3);
  const int rows = 5, dim = 333;
  std::vector<float> x = random_floats(static_cast<size_t>(rows) * dim, rng);
  std::vector<float> weight = random_floats(dim, rng, 0.5f, 1.5f);
  const auto weight_bf = to_bf16_rounding(weight);
  auto d_x = to_device(x);
  auto d_w = to_device(weight_bf);
  auto d_out = poisoned<bf16>(x.size());
  add_rms_norm({.rows = rows, .dim = dim, .residual = d_x.data(), .weight = d_w.data(), .out = d_out.data()}, nullptr);
  std::vector<float> ref(x.size());
  cpu::rms_norm({.rows = rows, .dim = dim, .in = x.data(), .in_stride = dim, .weight = weight.data(),
                 .out = ref.data(), .out_stride = dim});
  EXPECT_EQ(to_host(d_x), x);
  EXPECT_EQ(count_outside(to_float(to_host(d_out)), ref, kOneRounding, 1e-6), 0);
}

TEST(Swiglu, MatchesCpu) {
  PARKLOCK_REQUIRE_CUDA_DEVICE();
  std::mt19937 rng(4);
  for (const int f : {172, 5632, 171}) {  // 171: the odd-width path
    const int rows = 9;
    std::vector<float> gate_up = random_floats(static_cast<size_t>(rows) * 2 * f, rng, 0.05f, 4.f);
    const auto gu_bf = to_bf16_rounding(gate_up);
    auto d_gu = to_device(gu_bf);
    auto d_out = poisoned<bf16>(static_cast<size_t>(rows) * f);
    swiglu({.rows = rows, .dim = f, .gate_up = d_gu.data(), .out = d_out.data()}, nullptr);
    std::vector<float> ref(static_cast<size_t>(rows) * f);
    cpu::swiglu({.rows = rows, .dim = f, .gate_up = gate_up.data(), .out = ref.data()});
    // __expf's few-ulp error is far below the output's bf16 rounding.
    const std::vector<float> out = to_float(to_host(d_out));
    EXPECT_EQ(count_outside(out, ref, kOneRounding, 1e-6), 0) << "F " << f;
    EXPECT_LT(rel_l2(out, ref), 3e-3) << "F " << f;
  }
}

// RoPE on q and k of a fused qkv row, and the store of k and v into a
// ragged set of slots of the paged cache.
TEST(RopeKvWrite, MatchesCpuRopeAndPagedWrite) {
  PARKLOCK_REQUIRE_CUDA_DEVICE();
  std::mt19937 rng(5);
  struct Case { int nh, nkv, d, s; };
  for (const Case c : {Case{32, 4, 64, 16}, Case{4, 2, 16, 5}, Case{8, 8, 128, 7}}) {
    const int t = 29, max_pos = 2048, blocks = 40;
    const int qkv_dim = (c.nh + 2 * c.nkv) * c.d;
    std::vector<float> qkv = random_floats(static_cast<size_t>(t) * qkv_dim, rng, 0.05f, 2.f);
    const auto qkv_bf = to_bf16_rounding(qkv);
    // Distinct random slots; positions spread up to max_pos.
    std::vector<int32_t> slot_ids(blocks * c.s);
    std::iota(slot_ids.begin(), slot_ids.end(), 0);
    std::shuffle(slot_ids.begin(), slot_ids.end(), rng);
    slot_ids.resize(t);
    std::vector<int32_t> positions(t);
    for (auto& p : positions) p = std::uniform_int_distribution<int>(0, max_pos - 1)(rng);

    const int half = c.d / 2;
    std::vector<int32_t> all_pos(max_pos);
    std::iota(all_pos.begin(), all_pos.end(), 0);
    std::vector<float> cos(static_cast<size_t>(max_pos) * half), sin(cos.size());
    cpu::rope_table({.num_tokens = max_pos, .head_dim = c.d, .theta = 10000.f, .positions = all_pos.data(),
                     .cos = cos.data(), .sin = sin.data()});
    std::vector<float2> table(cos.size());
    for (size_t i = 0; i < cos.size(); ++i) table[i] = make_float2(cos[i], sin[i]);

    const size_t cache_n = static_cast<size_t>(blocks) * c.nkv * c.s * c.d;
    auto d_qkv = to_device(qkv_bf);
    auto d_pos = to_device(positions);
    auto d_slots = to_device(slot_ids);
    auto d_table = to_device(table);
    DeviceBuffer<bf16> d_k(cache_n), d_v(cache_n);
    PARKLOCK_CUDA_CHECK(cudaMemset(d_k.data(), 0, d_k.bytes()));
    PARKLOCK_CUDA_CHECK(cudaMemset(d_v.data(), 0, d_v.bytes()));
    rope_kv_write({.num_tokens = t, .num_heads = c.nh, .num_kv_heads = c.nkv, .head_dim = c.d, .block_size = c.s,
                   .qkv = d_qkv.data(), .positions = d_pos.data(), .slot_mapping = d_slots.data(),
                   .table = {.max_positions = max_pos, .head_dim = c.d, .cos_sin = d_table.data()},
                   .k_cache = d_k.data(), .v_cache = d_v.data()},
                  nullptr);

    // Reference: table for these positions, rotate q and k in fp32, then
    // write token by token through one-entry block tables.
    std::vector<float> rc(static_cast<size_t>(t) * half), rs(rc.size());
    cpu::rope_table({.num_tokens = t, .head_dim = c.d, .theta = 10000.f, .positions = positions.data(),
                     .cos = rc.data(), .sin = rs.data()});
    cpu::rope_apply({.num_tokens = t, .num_heads = c.nh + c.nkv, .head_dim = c.d, .x = qkv.data(),
                     .row_stride = qkv_dim, .cos = rc.data(), .sin = rs.data()});
    std::vector<float> k_ref(cache_n, 0.f), v_ref(cache_n, 0.f);
    const cpu::PagedKvLayout layout{.block_size = c.s, .num_kv_heads = c.nkv, .head_dim = c.d};
    for (int i = 0; i < t; ++i) {
      const int32_t block = slot_ids[i] / c.s;
      const int slot = slot_ids[i] % c.s;
      cpu::paged_kv_write({.layout = layout, .num_tokens = 1, .start_pos = slot, .block_table = &block,
                           .k = qkv.data() + static_cast<size_t>(i) * qkv_dim + c.nh * c.d,
                           .v = qkv.data() + static_cast<size_t>(i) * qkv_dim + (c.nh + c.nkv) * c.d,
                           .row_stride = qkv_dim, .k_cache = k_ref.data(), .v_cache = v_ref.data()});
    }
    const std::vector<float> qkv_out = to_float(to_host(d_qkv));
    EXPECT_EQ(count_outside(qkv_out, qkv, kOneRounding, 1e-6), 0) << "NH " << c.nh;
    EXPECT_LT(rel_l2(qkv_out, qkv), 3e-3);
    const std::vector<float> k_out = to_float(to_host(d_k)), v_out = to_float(to_host(d_v));
    EXPECT_EQ(count_outside(k_out, k_ref, kOneRounding, 1e-6), 0) << "NH " << c.nh;
    EXPECT_EQ(v_out, v_ref) << "values are copied, not computed";
  }
}

}  // namespace
}  // namespace parklock::kernels::cuda::testing
