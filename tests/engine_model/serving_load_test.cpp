// A serving-shaped load on the tiny model: 32 concurrent sequences of 64
// tokens (16-token prompts, then 48 batched decode steps). The logits must
// stay finite throughout; the speed is printed, not asserted (a loaded
// machine made a time limit fail at random).
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>

#include "engine/model/model.h"
#include "test_util.h"

namespace parklock::engine::testing {
namespace {

TEST(ServingLoad, ThirtyTwoSequencesOfSixtyFourTokens) {
  const ModelConfig c = ModelConfig::tiny();
  constexpr int kSeqs = 32, kPrompt = 16, kTotal = 64, kBlock = 16;
  auto model = Model::random(c, 1);
  model->allocate_kv({.num_blocks = kSeqs * kTotal / kBlock, .block_size = kBlock});
  std::vector<SeqState> seqs;
  for (int i = 0; i < kSeqs; ++i)
    seqs.push_back({.tokens = random_tokens(kTotal, c.vocab_size, i),
                    .blocks = scrambled_blocks(i * 4, 4, i)});

  const auto start = std::chrono::steady_clock::now();
  std::vector<float> logits(kSeqs * c.vocab_size);
  for (int n = kPrompt; seqs[0].done < kTotal; n = 1) {
    std::vector<SeqStep> steps;
    for (const SeqState& s : seqs) steps.push_back(s.next(n));
    model->forward(steps, logits.data());
    for (SeqState& s : seqs) s.done += n;
    for (float v : logits) ASSERT_TRUE(std::isfinite(v));
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  RecordProperty("tokens_per_second", std::to_string(kSeqs * kTotal / seconds));
  std::printf("tiny model: %d tokens in %.3f s (%.0f tokens/s)\n", kSeqs * kTotal, seconds,
              kSeqs * kTotal / seconds);
}

}  // namespace
}  // namespace parklock::engine::testing
