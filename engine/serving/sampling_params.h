// Per-request generation settings.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace parklock::engine {

struct SamplingParams {
  // <= 0 means greedy (argmax, lowest token id on ties); otherwise logits are
  // divided by it before the softmax.
  float temperature = 0.0f;
  int top_k = 0;        // keep the k most likely tokens; 0 = all
  float top_p = 1.0f;   // keep the smallest set with probability >= top_p
  // CTRL-style: logits of tokens already in the prompt or output are divided
  // by it when positive, multiplied when negative. 1 = off.
  float repetition_penalty = 1.0f;
  // Seed of this request's own generator: the same seed, prompt and settings
  // give the same tokens whatever else runs in the batch. Unset: derived
  // from the request id.
  std::optional<uint64_t> seed;
  int max_tokens = 16;             // generated tokens, > 0
  // Stop strings, matched on the decoded text by the consumer's OutputReader,
  // which then cancels the request; the engine loop never sees text.
  std::vector<std::string> stop;
  bool ignore_eos = false;         // keep going past EOS (benchmarks)
};

}  // namespace parklock::engine
