// Picks the next token from a row of logits.
//
// Order of operations: repetition penalty, then greedy argmax (temperature
// <= 0) or temperature, top-k, softmax, top-p, and one draw from the
// request's own generator. Draws use the generator's raw 64-bit output (not
// std::uniform_real_distribution, whose algorithm is up to the standard
// library), so a seed means the same tokens on every platform.
//
// Thread safety: a Sampler holds scratch buffers and belongs to one thread
// (the engine loop owns one). It has no shared state, hence no lock; the
// per-request state is the SamplerRng each sequence carries.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <utility>
#include <vector>

#include "engine/serving/sampling_params.h"

namespace parklock::engine {

// Per-request random state. std::mt19937_64's output sequence is fixed by
// the standard, so it is reproducible across standard libraries.
using SamplerRng = std::mt19937_64;

class Sampler {
 public:
  // Samples one token id. `logits` (vocab_size floats) is used as scratch
  // and modified. `context` holds the prompt and output tokens so far, for
  // the repetition penalty.
  int32_t sample(std::span<float> logits, const SamplingParams& params,
                 std::span<const int32_t> context, SamplerRng& rng);

 private:
  void apply_repetition_penalty(std::span<float> logits, float penalty,
                                std::span<const int32_t> context);

  std::vector<std::pair<float, int32_t>> candidates_;  // (logit, token)
  std::vector<uint8_t> seen_;                          // by token id
};

}  // namespace parklock::engine
