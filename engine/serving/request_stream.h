// One request's boundary between the engine and its consumer: a queue of
// streamed token ids and the final result. The engine loop produces; any
// client thread consumes (usually through an OutputReader, which turns the
// tokens into text).
//
// Thread safety: the queue and the result are guarded by the stream's own
// mutex (unnamed: it lives for one request); the consumer waits on a
// condition variable.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>

#include "engine/serving/request.h"
#include "engine/serving/thread_annotations.h"

namespace parklock::engine {

class RequestStream {
 public:
  RequestStream(uint64_t id, Clock::time_point submit_time);
  RequestStream(const RequestStream&) = delete;
  RequestStream& operator=(const RequestStream&) = delete;

  uint64_t id() const { return id_; }
  Clock::time_point submit_time() const { return submit_time_; }

  // Blocks until a token is available (true) or the request has finished
  // and every token was taken (false).
  bool next(TokenEvent* event) EXCLUDES(mu_);

  enum class Next { kToken, kFinished, kTimeout };
  // Like next(), waiting at most `timeout` (kTimeout: neither came).
  Next next_for(TokenEvent* event, Clock::duration timeout) EXCLUDES(mu_);

  // Blocks until the request has finished; the streamed tokens need not be
  // consumed first.
  RequestResult wait() EXCLUDES(mu_);

  bool finished() const EXCLUDES(mu_);

  // Producer side (the engine).
  void push(TokenEvent event) EXCLUDES(mu_);
  void finish(RequestResult result) EXCLUDES(mu_);

  // Set by Engine::cancel; read by the engine loop between steps.
  void request_cancel() { cancel_requested_.store(true, std::memory_order_release); }
  bool cancel_requested() const { return cancel_requested_.load(std::memory_order_acquire); }

 private:
  // next() and next_for(): no deadline when `deadline` is null.
  Next next_until(TokenEvent* event, const Clock::time_point* deadline) EXCLUDES(mu_);

  const uint64_t id_;
  const Clock::time_point submit_time_;
  std::atomic<bool> cancel_requested_{false};

  mutable AnnotatedMutex mu_;  // one per request, so not named
  std::condition_variable cv_;  // signalled on push and finish
  std::deque<TokenEvent> events_ GUARDED_BY(mu_);
  std::optional<RequestResult> result_ GUARDED_BY(mu_);
};

using RequestHandle = std::shared_ptr<RequestStream>;

}  // namespace parklock::engine
