// Device sampling against engine/serving's Sampler: for the same logits,
// settings and generator state, the same token. The CPU sampler draws one
// raw 64-bit word from the request's mt19937_64 per sampled token; the
// device sampler is given that word. Ties and boundaries: the candidate
// order is total (descending logit, ascending id) on both sides, so only a
// draw landing within fp32 rounding of a cumulative-mass boundary could
// differ; with random logits that is a ~1e-6 event per draw.
#include "cuda_test_util.h"
#include "engine/serving/sampler.h"
#include "kernels/cuda/sampling.cuh"

namespace parklock::kernels::cuda::testing {
namespace {

struct Setting {
  float temperature;
  int top_k;
  float top_p;
};

TEST(Sampling, SameTokensAsCpuSampler) {
  PARKLOCK_REQUIRE_CUDA_DEVICE();
  std::mt19937 rng(41);
  const int vocab = 997;
  const std::vector<Setting> settings = {{0.f, 0, 1.f},   {0.7f, 50, 1.f},  {1.f, 0, 0.9f},
                                         {1.3f, 200, 0.8f}, {0.5f, 0, 1.f},   {2.f, 1, 1.f},
                                         {1.f, 5, 0.3f},  {0.9f, 0, 0.f},   {1.f, 996, 0.999f}};
  const int trials = 24;
  const int rows = static_cast<int>(settings.size()) * trials;
  std::vector<float> logits = random_floats(static_cast<size_t>(rows) * vocab, rng, 0.f, 6.f);
  // A few exact ties, which the id order must break the same way.
  for (int r = 0; r < rows; ++r) logits[static_cast<size_t>(r) * vocab + 17] = logits[static_cast<size_t>(r) * vocab + 3];
  std::vector<float> temperature(rows), top_p(rows);
  std::vector<int32_t> top_k(rows), expected(rows);
  std::vector<uint64_t> words(rows);
  engine::Sampler sampler;
  for (int r = 0; r < rows; ++r) {
    const Setting& s = settings[r / trials];
    temperature[r] = s.temperature;
    top_k[r] = s.top_k;
    top_p[r] = s.top_p;
    const uint64_t seed = 1000 + r;
    words[r] = engine::SamplerRng(seed)();  // the one draw the CPU sampler will make
    engine::SamplerRng cpu_rng(seed);
    std::vector<float> row(logits.begin() + static_cast<size_t>(r) * vocab, logits.begin() + static_cast<size_t>(r + 1) * vocab);
    engine::SamplingParams params;
    params.temperature = s.temperature;
    params.top_k = s.top_k;
    params.top_p = s.top_p;
    expected[r] = sampler.sample(row, params, {}, cpu_rng);
  }
  auto d_logits = to_device(logits);
  auto d_t = to_device(temperature), d_p = to_device(top_p);
  auto d_k = to_device(top_k);
  auto d_w = to_device(words);
  auto d_out = poisoned<int32_t>(rows);
  sample_tokens({.num_rows = rows, .vocab = vocab, .logits = d_logits.data(), .temperature = d_t.data(),
                 .top_k = d_k.data(), .top_p = d_p.data(), .random_words = d_w.data(), .tokens = d_out.data()},
                nullptr);
  const std::vector<int32_t> got = to_host(d_out);
  int mismatches = 0;
  for (int r = 0; r < rows; ++r) {
    if (got[r] != expected[r]) {
      ++mismatches;
      const Setting& s = settings[r / trials];
      ADD_FAILURE() << "row " << r << " (T=" << s.temperature << " k=" << s.top_k << " p=" << s.top_p
                    << "): device " << got[r] << ", cpu " << expected[r];
    }
  }
  std::printf("sampling: %d of %d rows differ from the CPU sampler\n", mismatches, rows);
}

TEST(Sampling, GreedyIsArgmaxWithLowestIdOnTies) {
  PARKLOCK_REQUIRE_CUDA_DEVICE();
  std::mt19937 rng(42);
  const int vocab = 32000, rows = 5;
  std::vector<float> logits = random_floats(static_cast<size_t>(rows) * vocab, rng, 0.f, 10.f);
  std::vector<int32_t> expected(rows);
  for (int r = 0; r < rows; ++r) {
    float* row = logits.data() + static_cast<size_t>(r) * vocab;
    const int a = 100 + 999 * r, b = 31000 - 7 * r;  // the maximum, twice
    row[a] = row[b] = 11.f;
    expected[r] = std::min(a, b);
  }
  auto d_logits = to_device(logits);
  auto d_out = poisoned<int32_t>(rows);
  sample_tokens({.num_rows = rows, .vocab = vocab, .logits = d_logits.data(), .tokens = d_out.data()}, nullptr);
  EXPECT_EQ(to_host(d_out), expected);
}

// The draw follows the distribution: with top-k = 4 over known logits, the
// frequencies of 4000 draws (fresh words) match the softmax within 5 sigma,
// and nothing outside the top 4 is ever drawn.
TEST(Sampling, DrawsFollowTheTruncatedSoftmax) {
  PARKLOCK_REQUIRE_CUDA_DEVICE();
  const int vocab = 10, rows = 4000;
  const std::vector<float> base = {0.1f, 2.f, 0.5f, 1.5f, 3.f, -1.f, 2.5f, 0.f, 1.f, -2.f};
  std::vector<float> logits;
  for (int r = 0; r < rows; ++r) logits.insert(logits.end(), base.begin(), base.end());
  std::vector<float> temperature(rows, 1.f), top_p(rows, 1.f);
  std::vector<int32_t> top_k(rows, 4);
  std::vector<uint64_t> words(rows);
  std::mt19937_64 gen(7);
  for (auto& w : words) w = gen();
  auto d_logits = to_device(logits);
  auto d_t = to_device(temperature), d_p = to_device(top_p);
  auto d_k = to_device(top_k);
  auto d_w = to_device(words);
  auto d_out = poisoned<int32_t>(rows);
  sample_tokens({.num_rows = rows, .vocab = vocab, .logits = d_logits.data(), .temperature = d_t.data(),
                 .top_k = d_k.data(), .top_p = d_p.data(), .random_words = d_w.data(), .tokens = d_out.data()},
                nullptr);
  std::vector<int> hits(vocab);
  for (int32_t t : to_host(d_out)) {
    ASSERT_GE(t, 0);
    ASSERT_LT(t, vocab);
    ++hits[t];
  }
  const int top4[] = {4, 6, 1, 3};  // logits 3, 2.5, 2, 1.5
  double z = 0;
  for (int id : top4) z += std::exp(base[id] - 3.0);
  int inside = 0;
  for (int id : top4) {
    const double p = std::exp(base[id] - 3.0) / z;
    const double sigma = std::sqrt(rows * p * (1 - p));
    EXPECT_NEAR(hits[id], rows * p, 5 * sigma) << "token " << id;
    inside += hits[id];
  }
  EXPECT_EQ(inside, rows) << "a token outside the top 4 was drawn";
}

}  // namespace
}  // namespace parklock::kernels::cuda::testing
