// Shared helpers of the engine tests: the real tiny model with seeded
// synthetic weights, and request shorthands.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/model/model.h"
#include "engine/serving/engine.h"

namespace parklock::engine::testing {

inline std::unique_ptr<Model> tiny_model(uint64_t seed = 1) {
  return Model::random(ModelConfig::tiny(), seed);
}

// A deterministic prompt of `len` byte tokens, different for each `salt`.
inline std::vector<int32_t> prompt_tokens(int len, uint32_t salt) {
  std::vector<int32_t> p;
  p.push_back(ByteTokenizer::kBos);
  uint32_t x = salt * 2654435761u + 12345u;
  while (static_cast<int>(p.size()) < len) {
    x = x * 1664525u + 1013904223u;
    p.push_back(ByteTokenizer::kFirstByte + static_cast<int32_t>((x >> 16) % 96) + 32);
  }
  return p;
}

inline Request greedy_request(std::vector<int32_t> prompt, int max_tokens) {
  Request r;
  r.prompt = std::move(prompt);
  r.sampling.max_tokens = max_tokens;
  r.sampling.ignore_eos = true;  // fixed lengths, so results compare token by token
  return r;
}

inline Request seeded_request(std::vector<int32_t> prompt, int max_tokens, uint64_t seed) {
  Request r = greedy_request(std::move(prompt), max_tokens);
  r.sampling.temperature = 0.8f;
  r.sampling.top_k = 40;
  r.sampling.top_p = 0.95f;
  r.sampling.seed = seed;
  return r;
}

// Runs each request alone, one after the other, on a fresh engine.
inline std::vector<RequestResult> run_one_by_one(Model& model, const EngineConfig& config,
                                                 const std::vector<Request>& requests) {
  Engine engine(model, config);
  std::vector<RequestResult> out;
  for (const auto& r : requests) out.push_back(engine.submit(r)->wait());
  return out;
}

}  // namespace parklock::engine::testing
