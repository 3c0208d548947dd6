// Paged attention, decode and prefill, against cpu::paged_attention on the
// same bf16-rounded queries, keys and values, with ragged scrambled block
// tables, odd block sizes and contexts from 1 to past a thousand keys.
// The GPU accumulates in fp32 like the CPU; the remaining differences are
// the exp2-based softmax (a few ulp), the summation order, and the bf16
// rounding of the output (<= 2^-9 relative per element): a relative L2
// error under 4e-3 allows that rounding with margin, while any indexing or
// masking mistake gives errors of order 1.
#include "cuda_test_util.h"
#include "kernels/cpu/paged_attention.h"
#include "kernels/cuda/decode_attention.cuh"
#include "kernels/cuda/prefill_attention.cuh"

namespace parklock::kernels::cuda::testing {
namespace {

constexpr double kTolerance = 4e-3;

struct Shape {
  int nh, nkv, d, s;
};

std::string shape_name(const Shape& s) {
  return "nh" + std::to_string(s.nh) + "_nkv" + std::to_string(s.nkv) + "_d" + std::to_string(s.d) + "_s" +
         std::to_string(s.s);
}
void PrintTo(const Shape& s, std::ostream* os) { *os << shape_name(s); }

// A pool of random keys and values (bf16-rounded), shared by both sides.
struct Pool {
  cpu::PagedKvLayout layout;
  int blocks;
  std::vector<float> k, v;
  DeviceBuffer<bf16> d_k, d_v;

  Pool(const Shape& sh, int num_blocks, std::mt19937& rng)
      : layout{.block_size = sh.s, .num_kv_heads = sh.nkv, .head_dim = sh.d}, blocks(num_blocks) {
    k = random_floats(static_cast<size_t>(num_blocks) * layout.block_stride(), rng);
    v = random_floats(k.size(), rng);
    d_k = to_device(to_bf16_rounding(k));
    d_v = to_device(to_bf16_rounding(v));
  }
};

std::vector<float> cpu_attention(const Pool& pool, const Shape& sh, const std::vector<float>& q, int q_stride,
                                 int num_tokens, int start_pos, const int32_t* table) {
  std::vector<float> out(static_cast<size_t>(num_tokens) * sh.nh * sh.d);
  std::vector<float> scratch(start_pos + num_tokens);
  cpu::paged_attention({.layout = pool.layout, .num_heads = sh.nh, .num_tokens = num_tokens, .start_pos = start_pos,
                        .block_table = table, .q = q.data(), .q_stride = q_stride, .k_cache = pool.k.data(),
                        .v_cache = pool.v.data(), .out = out.data(), .out_stride = sh.nh * sh.d,
                        .scale = 1.f / std::sqrt(static_cast<float>(sh.d)), .scratch = scratch.data()});
  return out;
}

class DecodeAttentionParity : public ::testing::TestWithParam<Shape> {};

TEST_P(DecodeAttentionParity, RaggedContextsWithAndWithoutSplitK) {
  PARKLOCK_REQUIRE_CUDA_DEVICE();
  const Shape sh = GetParam();
  std::mt19937 rng(11 + sh.d + sh.s);
  const std::vector<int> contexts = {1, 7, sh.s, sh.s + 1, 130, 257, 611, 1100};
  const int n = static_cast<int>(contexts.size());
  const int max_ctx = 1100;
  const int max_blocks = (max_ctx + sh.s - 1) / sh.s;
  // Each sequence's blocks come from its own scrambled range of the pool.
  Pool pool(sh, n * max_blocks + 3, rng);
  std::vector<int32_t> tables(static_cast<size_t>(n) * max_blocks);
  for (int i = 0; i < n; ++i) {
    const auto ids = scrambled_blocks(3 + i * max_blocks, max_blocks, rng);
    std::copy(ids.begin(), ids.end(), tables.begin() + static_cast<size_t>(i) * max_blocks);
  }
  const int q_stride = sh.nh * sh.d + 24;  // q as a slice of a wider row
  std::vector<float> q = random_floats(static_cast<size_t>(n) * q_stride, rng);
  const auto q_bf = to_bf16_rounding(q);

  std::vector<float> ref;
  for (int i = 0; i < n; ++i) {
    std::vector<float> qi(q.begin() + static_cast<size_t>(i) * q_stride, q.begin() + static_cast<size_t>(i + 1) * q_stride);
    const auto r = cpu_attention(pool, sh, qi, q_stride, 1, contexts[i] - 1, tables.data() + static_cast<size_t>(i) * max_blocks);
    ref.insert(ref.end(), r.begin(), r.end());
  }

  auto d_q = to_device(q_bf);
  auto d_tables = to_device(tables);
  std::vector<int32_t> ctx32(contexts.begin(), contexts.end());
  auto d_ctx = to_device(ctx32);
  const int tiles = (max_ctx + kDecodeKeyTile - 1) / kDecodeKeyTile;
  for (const DecodeSplit split : {DecodeSplit{.partition_size = tiles * kDecodeKeyTile, .max_splits = 1},
                                  DecodeSplit{.partition_size = kDecodeKeyTile, .max_splits = tiles},
                                  DecodeSplit{.partition_size = 3 * kDecodeKeyTile, .max_splits = (tiles + 2) / 3},
                                  plan_decode_split(n, sh.nkv, max_ctx, device_info().sm_count)}) {
    auto d_out = poisoned<bf16>(ref.size());
    DeviceBuffer<float> partials(decode_partials_floats(n, sh.nh, sh.d, split.max_splits));
    decode_attention({.num_seqs = n, .num_heads = sh.nh, .num_kv_heads = sh.nkv, .head_dim = sh.d,
                      .block_size = sh.s, .q = d_q.data(), .q_stride = q_stride, .k_cache = pool.d_k.data(),
                      .v_cache = pool.d_v.data(), .block_tables = d_tables.data(), .max_blocks_per_seq = max_blocks,
                      .context_lens = d_ctx.data(), .out = d_out.data(), .out_stride = sh.nh * sh.d,
                      .scale = 1.f / std::sqrt(static_cast<float>(sh.d)), .split = split,
                      .partials = partials.data()},
                     nullptr);
    const std::vector<float> out = to_float(to_host(d_out));
    const double err = rel_l2(out, ref);
    EXPECT_LT(err, kTolerance) << "splits " << split.max_splits << " of " << split.partition_size;
    std::printf("decode attention NH=%d NKV=%d D=%d S=%d splits=%d: rel L2 %.2e\n", sh.nh, sh.nkv, sh.d, sh.s,
                split.max_splits, err);
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, DecodeAttentionParity,
                         ::testing::Values(Shape{32, 4, 64, 16}, Shape{4, 2, 16, 5}, Shape{8, 4, 32, 7},
                                           Shape{8, 8, 128, 16}, Shape{8, 1, 64, 3}),
                         [](const auto& info) { return shape_name(info.param); });

class PrefillAttentionParity : public ::testing::TestWithParam<Shape> {};

// Sequences with and without a cached prefix (chunked prefill), single
// tokens, and chunks that end mid-tile, all in one launch.
TEST_P(PrefillAttentionParity, ChunksOverCachedPrefixes) {
  PARKLOCK_REQUIRE_CUDA_DEVICE();
  const Shape sh = GetParam();
  std::mt19937 rng(21 + sh.d + sh.s);
  struct Seq { int start, count; };
  const std::vector<Seq> seqs = {{0, 37}, {50, 13}, {3, 1}, {0, 100}, {127, 33}, {1, 64}};
  const int n = static_cast<int>(seqs.size());
  const int max_blocks = (200 + sh.s - 1) / sh.s;
  Pool pool(sh, n * max_blocks + 1, rng);
  std::vector<int32_t> tables(static_cast<size_t>(n) * max_blocks), start(n), count(n), row_begin(n);
  int t = 0;
  for (int i = 0; i < n; ++i) {
    const auto ids = scrambled_blocks(1 + i * max_blocks, max_blocks, rng);
    std::copy(ids.begin(), ids.end(), tables.begin() + static_cast<size_t>(i) * max_blocks);
    start[i] = seqs[i].start;
    count[i] = seqs[i].count;
    row_begin[i] = t;
    t += seqs[i].count;
  }
  const int q_stride = (sh.nh + 2 * sh.nkv) * sh.d;
  std::vector<float> q = random_floats(static_cast<size_t>(t) * q_stride, rng);
  const auto q_bf = to_bf16_rounding(q);
  std::vector<float> ref;
  for (int i = 0; i < n; ++i) {
    std::vector<float> qi(q.begin() + static_cast<size_t>(row_begin[i]) * q_stride,
                          q.begin() + static_cast<size_t>(row_begin[i] + count[i]) * q_stride);
    const auto r = cpu_attention(pool, sh, qi, q_stride, count[i], start[i], tables.data() + static_cast<size_t>(i) * max_blocks);
    ref.insert(ref.end(), r.begin(), r.end());
  }
  std::vector<int32_t> tile_seq, tile_row0;
  plan_prefill_tiles(count.data(), n, tile_seq, tile_row0);
  auto d_q = to_device(q_bf);
  auto d_tables = to_device(tables);
  auto d_start = to_device(start), d_count = to_device(count), d_rows = to_device(row_begin);
  auto d_tile_seq = to_device(tile_seq), d_tile_row0 = to_device(tile_row0);
  auto d_out = poisoned<bf16>(ref.size());
  prefill_attention({.num_tiles = static_cast<int>(tile_seq.size()), .tile_seq = d_tile_seq.data(),
                     .tile_row0 = d_tile_row0.data(), .seq_start_pos = d_start.data(), .seq_num_tokens = d_count.data(),
                     .seq_row_begin = d_rows.data(), .block_tables = d_tables.data(), .max_blocks_per_seq = max_blocks,
                     .num_heads = sh.nh, .num_kv_heads = sh.nkv, .head_dim = sh.d, .block_size = sh.s,
                     .q = d_q.data(), .q_stride = q_stride, .k_cache = pool.d_k.data(), .v_cache = pool.d_v.data(),
                     .out = d_out.data(), .out_stride = sh.nh * sh.d,
                     .scale = 1.f / std::sqrt(static_cast<float>(sh.d))},
                    nullptr);
  const std::vector<float> out = to_float(to_host(d_out));
  const double err = rel_l2(out, ref);
  EXPECT_LT(err, kTolerance);
  std::printf("prefill attention NH=%d NKV=%d D=%d S=%d: rel L2 %.2e\n", sh.nh, sh.nkv, sh.d, sh.s, err);
}

INSTANTIATE_TEST_SUITE_P(Shapes, PrefillAttentionParity,
                         ::testing::Values(Shape{32, 4, 64, 16}, Shape{4, 2, 16, 5}, Shape{8, 4, 32, 7},
                                           Shape{8, 8, 128, 16}, Shape{8, 1, 64, 3}),
                         [](const auto& info) { return shape_name(info.param); });

}  // namespace
}  // namespace parklock::kernels::cuda::testing
