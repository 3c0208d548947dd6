#include "engine/serving/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <vector>

namespace parklock::engine {
namespace {

// Logits where token i has logit -i * step: token 0 is the most likely.
std::vector<float> ramp(int vocab, float step = 0.5f) {
  std::vector<float> l(vocab);
  for (int i = 0; i < vocab; ++i) l[i] = -step * static_cast<float>(i);
  return l;
}

std::vector<int32_t> draw(const SamplingParams& p, uint64_t seed, int n,
                          const std::vector<float>& logits, std::vector<int32_t> context = {}) {
  Sampler sampler;
  SamplerRng rng(seed);
  std::vector<int32_t> out;
  for (int i = 0; i < n; ++i) {
    auto copy = logits;
    out.push_back(sampler.sample(copy, p, context, rng));
  }
  return out;
}

TEST(Sampler, GreedyPicksArgmaxAndLowestIdOnTies) {
  Sampler sampler;
  SamplerRng rng(1);
  std::vector<float> l{0.1f, 2.0f, -1.0f, 2.0f};
  EXPECT_EQ(sampler.sample(l, SamplingParams{}, {}, rng), 1);
}

TEST(Sampler, SameSeedSameTokensOtherSeedOtherTokens) {
  SamplingParams p;
  p.temperature = 1.0f;
  const auto logits = ramp(64, 0.05f);
  const auto a = draw(p, 7, 50, logits);
  EXPECT_EQ(a, draw(p, 7, 50, logits));
  EXPECT_NE(a, draw(p, 8, 50, logits));
}

TEST(Sampler, TopKOneIsGreedy) {
  SamplingParams p;
  p.temperature = 5.0f;
  p.top_k = 1;
  for (int32_t t : draw(p, 3, 100, ramp(32))) EXPECT_EQ(t, 0);
}

TEST(Sampler, TopKKeepsOnlyTheKMostLikely) {
  SamplingParams p;
  p.temperature = 10.0f;  // nearly flat, so all k show up
  p.top_k = 5;
  std::set<int32_t> seen;
  for (int32_t t : draw(p, 3, 2000, ramp(32, 0.01f))) seen.insert(t);
  EXPECT_EQ(seen, (std::set<int32_t>{0, 1, 2, 3, 4}));
}

TEST(Sampler, TopPKeepsTheSmallestNucleus) {
  // Probabilities 0.5, 0.25, 0.125, ...: top_p 0.7 keeps exactly {0, 1}.
  std::vector<float> l(16);
  for (int i = 0; i < 16; ++i) l[i] = -static_cast<float>(i) * std::log(2.0f);
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_p = 0.7f;
  std::set<int32_t> seen;
  int zeros = 0;
  for (int32_t t : draw(p, 11, 3000, l)) {
    seen.insert(t);
    zeros += t == 0;
  }
  EXPECT_EQ(seen, (std::set<int32_t>{0, 1}));
  // Renormalised: 2/3 of the draws are token 0.
  EXPECT_NEAR(zeros / 3000.0, 2.0 / 3.0, 0.04);
}

TEST(Sampler, TemperatureFollowsTheSoftmax) {
  std::vector<float> l{std::log(0.6f), std::log(0.3f), std::log(0.1f)};
  SamplingParams p;
  p.temperature = 1.0f;
  int counts[3] = {0, 0, 0};
  for (int32_t t : draw(p, 5, 6000, l)) ++counts[t];
  EXPECT_NEAR(counts[0] / 6000.0, 0.6, 0.03);
  EXPECT_NEAR(counts[1] / 6000.0, 0.3, 0.03);
  EXPECT_NEAR(counts[2] / 6000.0, 0.1, 0.03);
}

TEST(Sampler, RepetitionPenaltyDemotesSeenTokens) {
  Sampler sampler;
  SamplerRng rng(1);
  SamplingParams p;
  p.repetition_penalty = 2.0f;
  std::vector<float> l{3.0f, 2.0f, -1.0f};
  const std::vector<int32_t> context{0, 0, 2};
  EXPECT_EQ(sampler.sample(l, p, context, rng), 1);
  // Positive logits are divided, negative ones multiplied, once per token.
  EXPECT_FLOAT_EQ(l[0], 1.5f);
  EXPECT_FLOAT_EQ(l[1], 2.0f);
  EXPECT_FLOAT_EQ(l[2], -2.0f);
}

}  // namespace
}  // namespace parklock::engine
