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

// TokenEvent::token of the last event of a request when it only carries
// text that was held back (a partial UTF-8 sequence or a possible stop
// string) until the end.
inline constexpr int32_t kNoToken = -1;

// One generated token as streamed to the client.
struct TokenEvent {
  int32_t token = 0;  // or kNoToken
  std::string text;  // decoded text now safe to show; may be empty (partial
                     // UTF-8 sequence, or text held back by a stop string)
  Clock::time_point time;
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
  kStop,       // EOS token or a stop string
  kLength,     // max_tokens reached
  kCancelled,  // cancel() before the end
  kError,      // rejected or failed; see RequestResult::error
};

const char* finish_reason_name(FinishReason reason);

struct RequestResult {
  FinishReason reason = FinishReason::kError;
  std::string error;             // set for kError
  std::vector<int32_t> tokens;   // generated tokens (EOS excluded)
  std::string text;              // decoded output, stop string excluded
  int prompt_tokens = 0;
  int cached_prompt_tokens = 0;  // prompt tokens served from the prefix cache
  int preemptions = 0;           // times the sequence was evicted and recomputed
  Clock::time_point submit_time;
  Clock::time_point first_scheduled_time;  // first forward pass; == submit_time if never
  Clock::time_point first_token_time;  // == submit_time when no token came
  Clock::time_point finish_time;
};

}  // namespace parklock::engine
