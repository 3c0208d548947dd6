// The CPU forward pass against the float64 reference, and batching/paging
// invariants: chunked prefill, decode, GQA shapes, batched == unbatched.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <numeric>

#include "engine/model/model.h"
#include "engine/model/synthetic_weights.h"
#include "reference_model.h"
#include "test_util.h"

namespace parklock::engine::testing {
namespace {

constexpr double kTolerance = 2e-4;  // fp32 engine vs fp64 reference, relative to max |logit|

struct ShapeCase {
  const char* name;
  ModelConfig config;
};

void PrintTo(const ShapeCase& c, std::ostream* os) { *os << c.name; }

ModelConfig with_heads(ModelConfig c, int heads, int kv_heads, bool tie) {
  c.num_heads = heads;
  c.num_kv_heads = kv_heads;
  c.tie_embeddings = tie;
  return c;
}

class ForwardVsReference : public ::testing::TestWithParam<ShapeCase> {};

// Prefill in uneven chunks, then decode one token at a time; after every
// step the last token's logits must match the reference at that position.
TEST_P(ForwardVsReference, ChunkedPrefillThenDecode) {
  const ModelConfig c = GetParam().config;
  const uint64_t seed = 11;
  auto model = Model::random(c, seed);
  model->allocate_kv({.num_blocks = 32, .block_size = 4});
  const SyntheticWeights weights(c, seed);
  const ReferenceModel reference(c, weights);

  SeqState seq{.tokens = random_tokens(24, c.vocab_size, 5), .blocks = scrambled_blocks(3, 6, 9)};
  const auto expected = reference.logits(seq.tokens);
  std::vector<float> logits(c.vocab_size);
  for (int chunk : {7, 5, 1, 3, 1, 1, 1, 1, 1, 1, 1, 1}) {
    const SeqStep step = seq.next(chunk);
    model->forward({&step, 1}, logits.data());
    seq.done += chunk;
    EXPECT_LT(max_rel_diff(logits.data(), expected[seq.done - 1]), kTolerance)
        << "after position " << seq.done - 1;
  }
  ASSERT_EQ(seq.done, 24);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, ForwardVsReference,
    ::testing::Values(ShapeCase{"tiny_gqa_tied", ModelConfig::tiny()},
                      ShapeCase{"multi_head_untied", with_heads(ModelConfig::tiny(), 4, 4, false)},
                      ShapeCase{"multi_query", with_heads(ModelConfig::tiny(), 8, 1, true)}),
    [](const auto& info) { return std::string(info.param.name); });

// Several sequences at different stages in one batch give the same logits
// as each run alone, and as the reference.
TEST(Forward, BatchedEqualsUnbatched) {
  const ModelConfig c = ModelConfig::tiny();
  auto batched = Model::random(c, 3);
  auto single = Model::random(c, 3);
  batched->allocate_kv({.num_blocks = 64, .block_size = 8});
  single->allocate_kv({.num_blocks = 64, .block_size = 8});
  const SyntheticWeights weights(c, 3);
  const ReferenceModel reference(c, weights);

  const int lengths[] = {1, 9, 17, 4, 30};
  std::vector<SeqState> seqs;
  for (int i = 0; i < 5; ++i)
    seqs.push_back({.tokens = random_tokens(lengths[i] + 3, c.vocab_size, 100 + i),
                    .blocks = scrambled_blocks(i * 12, 12, i)});
  // Step 1: each sequence prefills its prompt (all but the last 3 tokens).
  // Steps 2-4: all decode together.
  for (int round = 0; round < 4; ++round) {
    std::vector<SeqStep> steps;
    for (const SeqState& s : seqs) steps.push_back(s.next(round == 0 ? int(s.tokens.size()) - 3 : 1));
    std::vector<float> batch_logits(steps.size() * c.vocab_size);
    batched->forward(steps, batch_logits.data());
    for (size_t i = 0; i < seqs.size(); ++i) {
      std::vector<float> alone(c.vocab_size);
      single->forward({&steps[i], 1}, alone.data());
      const float* row = batch_logits.data() + i * c.vocab_size;
      for (int v = 0; v < c.vocab_size; ++v)
        ASSERT_NEAR(row[v], alone[v], 1e-4f) << "seq " << i << " round " << round;
      seqs[i].done += steps[i].num_tokens;
      const auto expected = reference.logits({seqs[i].tokens.begin(), seqs[i].tokens.begin() + seqs[i].done});
      EXPECT_LT(max_rel_diff(row, expected.back()), kTolerance) << "seq " << i;
    }
  }
}

// Only steps that want logits get a row, in step order.
TEST(Forward, LogitsOnlyForStepsThatWantThem) {
  const ModelConfig c = ModelConfig::tiny();
  auto model = Model::random(c, 4);
  model->allocate_kv({.num_blocks = 16, .block_size = 4});
  SeqState a{.tokens = random_tokens(5, c.vocab_size, 1), .blocks = {0, 1}};
  SeqState b{.tokens = random_tokens(6, c.vocab_size, 2), .blocks = {2, 3}};
  const SeqStep steps[] = {a.next(5, nullptr, false), b.next(6, nullptr, true)};
  std::vector<float> logits(c.vocab_size);
  model->forward(steps, logits.data());

  auto fresh = Model::random(c, 4);
  fresh->allocate_kv({.num_blocks = 16, .block_size = 4});
  std::vector<float> expected(c.vocab_size);
  fresh->forward({&steps[1], 1}, expected.data());
  for (int v = 0; v < c.vocab_size; ++v) ASSERT_NEAR(logits[v], expected[v], 1e-5f);
}

// The output buffer is written, never read: garbage in it must not leak
// into the logits (BLAS beta = 0 must mean "overwrite").
TEST(Forward, OverwritesGarbageInLogitsBuffer) {
  const ModelConfig c = ModelConfig::tiny();
  auto model = Model::random(c, 4);
  model->allocate_kv({.num_blocks = 4, .block_size = 4});
  SeqState s{.tokens = random_tokens(3, c.vocab_size, 1), .blocks = {0}};
  std::vector<float> logits(c.vocab_size, std::nanf(""));
  for (int n : {2, 1}) {  // a two-row prefill, then a one-row decode (a different GEMM path)
    const SeqStep step = s.next(n);
    std::fill(logits.begin(), logits.end(), std::nanf(""));
    model->forward({&step, 1}, logits.data());
    s.done += n;
    for (float v : logits) ASSERT_TRUE(std::isfinite(v));
  }
}

TEST(Forward, LoadedCheckpointMatchesRandom) {
  TempDir dir;
  const ModelConfig c = with_heads(ModelConfig::tiny(), 4, 2, false);
  write_synthetic_model(dir.file("m.safetensors"), c, 21);
  auto loaded = Model::load(dir.file("m.safetensors"));
  auto random = Model::random(c, 21);
  EXPECT_EQ(loaded->config(), c);
  loaded->allocate_kv({.num_blocks = 8, .block_size = 16});
  random->allocate_kv({.num_blocks = 8, .block_size = 16});
  SeqState s{.tokens = random_tokens(20, c.vocab_size, 8), .blocks = {4, 2}};
  const SeqStep step = s.next(20);
  std::vector<float> a(c.vocab_size), b(c.vocab_size);
  loaded->forward({&step, 1}, a.data());
  random->forward({&step, 1}, b.data());
  EXPECT_EQ(a, b);
}

TEST(Forward, Bf16CheckpointIsCloseToF32) {
  TempDir dir;
  const ModelConfig c = ModelConfig::tiny();
  write_synthetic_model(dir.file("m.safetensors"), c, 2, Dtype::kBF16);
  auto bf16 = Model::load(dir.file("m.safetensors"));
  auto f32 = Model::random(c, 2);
  bf16->allocate_kv({.num_blocks = 4, .block_size = 16});
  f32->allocate_kv({.num_blocks = 4, .block_size = 16});
  SeqState s{.tokens = random_tokens(10, c.vocab_size, 8), .blocks = {0}};
  const SeqStep step = s.next(10);
  std::vector<float> a(c.vocab_size), b(c.vocab_size);
  bf16->forward({&step, 1}, a.data());
  f32->forward({&step, 1}, b.data());
  const std::vector<double> ref(b.begin(), b.end());
  EXPECT_LT(max_rel_diff(a.data(), ref), 0.05);  // bf16 keeps ~3 significant digits
}

// Copy-on-write: after copying a shared block, a sequence reading the copy
// continues exactly as one reading the original.
TEST(Forward, CopyKvBlockPreservesContents) {
  const ModelConfig c = ModelConfig::tiny();
  auto model = Model::random(c, 6);
  model->allocate_kv({.num_blocks = 8, .block_size = 4});
  SeqState s{.tokens = random_tokens(9, c.vocab_size, 3), .blocks = {0, 1, 2}};
  const SeqStep prefill = s.next(8, nullptr, false);  // fills blocks 0 and 1
  model->forward({&prefill, 1}, nullptr);
  s.done = 8;
  model->copy_kv_block(1, 5);

  std::vector<float> original(c.vocab_size), copied(c.vocab_size);
  const SeqStep decode = s.next(1);
  model->forward({&decode, 1}, original.data());
  SeqState t = s;
  t.blocks = {0, 5, 6};
  const SeqStep decode_copy = t.next(1);
  model->forward({&decode_copy, 1}, copied.data());
  EXPECT_EQ(original, copied);

  EXPECT_THROW(model->copy_kv_block(8, 0), std::out_of_range);
  EXPECT_THROW(model->copy_kv_block(0, -1), std::out_of_range);
}

TEST(Forward, RejectsMalformedSteps) {
  const ModelConfig c = ModelConfig::tiny();
  auto model = Model::random(c, 1);
  std::vector<float> logits(c.vocab_size);
  SeqState s{.tokens = {1, 2, 3, 4, 5}, .blocks = {0, 1}};
  SeqStep step = s.next(5);
  EXPECT_THROW(model->forward({&step, 1}, logits.data()), std::logic_error);  // no KV yet
  model->allocate_kv({.num_blocks = 4, .block_size = 2});

  auto expect_error = [&](SeqStep bad, const std::string& fragment) {
    try {
      model->forward({&bad, 1}, logits.data());
      ADD_FAILURE() << "no error for: " << fragment;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  expect_error(step, "need 3");  // 5 positions in blocks of 2
  s.blocks = {0, 1, 9};
  expect_error(s.next(5), "block id 9 outside");
  s.blocks = {0, 1, 2};
  s.tokens[2] = c.vocab_size;
  expect_error(s.next(5), "outside the vocabulary");
  s.tokens[2] = 3;
  // A valid step that wants logits, with nowhere to put them.
  EXPECT_THROW(model->forward(std::vector<SeqStep>{s.next(5)}, nullptr), std::invalid_argument);
  SeqStep far = s.next(1);
  far.start_pos = c.max_positions;
  expect_error(far, "max_positions");
}

}  // namespace
}  // namespace parklock::engine::testing

namespace parklock::engine::testing {
namespace {

// The compute pool splits every phase over threads; the logits must not
// depend on how many (up to the summation order of one GEMM row).
TEST(Forward, ComputePoolMatchesOneThread) {
  const ModelConfig c = ModelConfig::tiny();
  auto pooled = Model::random(c, 6);
  auto single = Model::random(c, 6);
  pooled->set_compute_threads(3);
  EXPECT_EQ(pooled->compute_threads(), 3);
  pooled->allocate_kv({.num_blocks = 64, .block_size = 8});
  single->allocate_kv({.num_blocks = 64, .block_size = 8});
  std::vector<SeqState> seqs;
  for (int i = 0; i < 5; ++i)
    seqs.push_back({.tokens = random_tokens(12 + 5 * i, c.vocab_size, 40 + i),
                    .blocks = scrambled_blocks(i * 12, 12, 7 + i)});
  for (int round = 0; round < 4; ++round) {
    std::vector<SeqStep> steps;
    for (const SeqState& s : seqs) steps.push_back(s.next(round == 0 ? int(s.tokens.size()) - 3 : 1));
    std::vector<float> a(steps.size() * c.vocab_size), b(steps.size() * c.vocab_size);
    pooled->forward(steps, a.data());
    single->forward(steps, b.data());
    for (size_t v = 0; v < a.size(); ++v) ASSERT_NEAR(a[v], b[v], 1e-4f) << "round " << round;
    for (size_t i = 0; i < seqs.size(); ++i) seqs[i].done += steps[i].num_tokens;
  }
}

// A malformed step fails the same way with a pool: the exception of the
// thread that found it reaches the caller after the barrier.
TEST(Forward, ComputePoolReportsErrors) {
  auto model = Model::random(ModelConfig::tiny(), 6);
  model->set_compute_threads(2);
  model->allocate_kv({.num_blocks = 4, .block_size = 4});
  SeqState s{.tokens = random_tokens(3, 259, 1), .blocks = {9}};  // block outside the cache
  const SeqStep step = s.next(3);
  std::vector<float> logits(259);
  EXPECT_THROW(model->forward({&step, 1}, logits.data()), std::invalid_argument);
}

// F32 checkpoints are read in place from the mapping: no second copy of the
// weights in memory (the 8.6 GB RSS for a 4.4 GB TinyLlama file).
TEST(Forward, F32CheckpointIsUsedInPlace) {
  TempDir dir;
  const ModelConfig c = ModelConfig::tiny();
  write_synthetic_model(dir.file("f32.safetensors"), c, 3, Dtype::kF32);
  write_synthetic_model(dir.file("bf16.safetensors"), c, 3, Dtype::kBF16);
  EXPECT_EQ(Model::load(dir.file("f32.safetensors"))->owned_weight_bytes(), 0u);
  EXPECT_GT(Model::load(dir.file("bf16.safetensors"))->owned_weight_bytes(), 0u);
  EXPECT_GT(Model::random(c, 3)->owned_weight_bytes(), 0u);
}

// A checkpoint with its tensors sorted by name (as many exporters write
// them) has q/k/v and gate/up apart: they are stacked into owned copies,
// with the same results.
TEST(Forward, F32CheckpointInOtherOrderLoadsTheSame) {
  TempDir dir;
  const ModelConfig c = ModelConfig::tiny();
  const SyntheticWeights source(c, 5);
  std::vector<std::string> names = source.tensor_names();
  std::sort(names.begin(), names.end());
  std::vector<std::vector<float>> data;
  std::vector<SafetensorsEntry> entries;
  for (const std::string& name : names) {
    const std::vector<int64_t> shape = *source.shape_of(name);
    auto& d = data.emplace_back(static_cast<size_t>(std::accumulate(
        shape.begin(), shape.end(), int64_t{1}, std::multiplies<>())));
    source.read_f32(name, d);
  }
  for (size_t i = 0; i < names.size(); ++i)
    entries.push_back(SafetensorsEntry::of(names[i], *source.shape_of(names[i]), data[i]));
  write_safetensors(dir.file("sorted.safetensors"), entries, c.to_metadata());
  auto sorted = Model::load(dir.file("sorted.safetensors"));
  auto random = Model::random(c, 5);
  EXPECT_GT(sorted->owned_weight_bytes(), 0u);
  EXPECT_LT(sorted->owned_weight_bytes(), random->owned_weight_bytes());  // the rest is in place
  sorted->allocate_kv({.num_blocks = 4, .block_size = 16});
  random->allocate_kv({.num_blocks = 4, .block_size = 16});
  SeqState s{.tokens = random_tokens(12, c.vocab_size, 3), .blocks = {1}};
  const SeqStep step = s.next(12);
  std::vector<float> a(c.vocab_size), b(c.vocab_size);
  sorted->forward({&step, 1}, a.data());
  random->forward({&step, 1}, b.data());
  EXPECT_EQ(a, b);
}

}  // namespace
}  // namespace parklock::engine::testing
