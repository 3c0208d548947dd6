// The consumer side of one request: submits it to the engine, then turns the
// engine's stream of token ids into text on the calling thread.
//
// Each token is decoded incrementally to valid UTF-8 (Utf8StreamDecoder) and
// the text searched for the request's stop strings (StopMatcher). At the
// first match the reader cancels the request in the engine and ends the
// output right before the stop string, with finish reason kStop; tokens the
// engine generated before the cancel reached it are dropped. This keeps the
// engine loop to token-level work (sample, EOS, max_tokens), as vLLM keeps
// detokenising and stop strings in its output processor, outside its engine
// core: the text work of N requests runs on their N consumer threads (HTTP
// workers, CLI client threads) rather than on the loop between steps.
//
// Every caller (HTTP server, `parklock-engine generate` and `bench`) reads
// its requests through this class. Not thread-safe: one thread at a time
// reads a request (the HTTP worker that serves it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "engine/model/byte_tokenizer.h"
#include "engine/serving/engine.h"
#include "engine/serving/request.h"
#include "engine/serving/request_stream.h"
#include "engine/serving/stop_matcher.h"

namespace parklock::engine {

// OutputEvent::token of the last event of a request when it only carries
// text that was held back (a partial UTF-8 sequence or a possible stop
// string) until the end.
inline constexpr int32_t kNoToken = -1;

// One generated token as the consumer sees it.
struct OutputEvent {
  int32_t token = 0;  // or kNoToken
  std::string text;   // decoded text now safe to show; may be empty (partial
                      // UTF-8 sequence, or text held back by a stop string)
  Clock::time_point time;  // when the engine sampled the token
};

class OutputReader {
 public:
  // Submits `request` (see Engine::submit); `engine` must outlive the reader.
  OutputReader(Engine& engine, Request request);
  OutputReader(const OutputReader&) = delete;
  OutputReader& operator=(const OutputReader&) = delete;

  // Blocks until the next event (true) or the end of the output (false).
  bool next(OutputEvent* event);

  enum class Next { kEvent, kEnded, kTimeout };
  // Like next(), waiting at most `timeout` for the engine (kTimeout: nothing
  // came), so the caller can look around meanwhile (is the client still there?).
  Next next_for(OutputEvent* event, Clock::duration timeout);

  // Cancels the request in the engine (Engine::cancel); idempotent.
  void cancel();

  // Reads what is left (dropping it) and waits until the engine has finished
  // the request, so its KV blocks are free on return. The result's text and
  // tokens are the output as read: after a stop string, reason kStop and the
  // tokens up to and including the one that completed it.
  RequestResult finish();

  const RequestHandle& handle() const { return handle_; }

 private:
  // next() and next_for(): no timeout when `timeout` is null.
  Next read(OutputEvent* event, const Clock::duration* timeout);
  // The text still held back once the engine finished (none after an error).
  std::string held_back_text();

  Engine& engine_;
  RequestHandle handle_;
  Utf8StreamDecoder decoder_;
  StopMatcher stop_;
  int tokens_read_ = 0;
  bool stopped_ = false;  // a stop string matched: the request was cancelled
  bool ended_ = false;    // read() reported kEnded
  std::optional<RequestResult> engine_result_;  // once the engine finished
};

}  // namespace parklock::engine
