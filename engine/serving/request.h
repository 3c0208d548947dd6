// What a client submits to the engine and what it gets back.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/serving/sampling_params.h"

namespace parklock::engine {

using Clock = std::chrono::steady_clock;

// One generated token as the engine streams it: ids only. Text (decoding,
// stop strings) is the consumer's work, on its own thread (output_reader.h).
struct TokenEvent {
  int32_t token = 0;
  Clock::time_point time;  // when it was sampled
};

struct Request {
  std::vector<int32_t> prompt;  // token ids, BOS included if wanted; non-empty
  SamplingParams sampling;
  std::string adapter;  // registered LoRA adapter name; empty = base model
  // Called on the engine loop thread for every token, before the token is
  // queued on the handle. Keep it short: the whole batch waits for it.
  std::function<void(const TokenEvent&)> on_token;
};

enum class FinishReason {
  kStop,       // EOS token, or a stop string (set by OutputReader)
  kLength,     // max_tokens reached
  kCancelled,  // cancel() before the end
  kError,      // rejected or failed; see RequestResult::error
};

const char* finish_reason_name(FinishReason reason);

struct RequestResult {
  FinishReason reason = FinishReason::kError;
  std::string error;             // set for kError
  std::vector<int32_t> tokens;   // generated tokens (EOS excluded); after a stop
                                 // string, up to the one that completed it
  std::string text;              // decoded output, stop string excluded: set by
                                 // OutputReader (the engine leaves it empty)
  int prompt_tokens = 0;
  int cached_prompt_tokens = 0;  // prompt tokens served from the prefix cache
  int preemptions = 0;           // times the sequence was evicted and recomputed
  Clock::time_point submit_time;
  Clock::time_point first_scheduled_time;  // first forward pass; == submit_time if never
  Clock::time_point first_token_time;  // == submit_time when no token came
  Clock::time_point finish_time;
};

}  // namespace parklock::engine
