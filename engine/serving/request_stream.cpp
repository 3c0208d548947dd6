#include "engine/serving/request_stream.h"

namespace parklock::engine {

// The stream's mutex stays unnamed: it lives for one request (see engine.h).
RequestStream::RequestStream(uint64_t id, Clock::time_point submit_time)
    : id_(id), submit_time_(submit_time) {}

bool RequestStream::next(TokenEvent* event) {
  return next_until(event, nullptr) == Next::kToken;
}

RequestStream::Next RequestStream::next_for(TokenEvent* event, Clock::duration timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  return next_until(event, &deadline);
}

RequestStream::Next RequestStream::next_until(TokenEvent* event,
                                              const Clock::time_point* deadline) {
  MutexLock lock(mu_);
  while (events_.empty() && !result_) {
    if (!deadline)
      lock.wait(cv_);
    else if (lock.wait_until(cv_, *deadline) == std::cv_status::timeout && events_.empty() &&
             !result_)
      return Next::kTimeout;
  }
  if (events_.empty()) return Next::kFinished;
  *event = events_.front();
  events_.pop_front();
  return Next::kToken;
}

RequestResult RequestStream::wait() {
  MutexLock lock(mu_);
  while (!result_) lock.wait(cv_);
  return *result_;
}

bool RequestStream::finished() const {
  MutexLock lock(mu_);
  return result_.has_value();
}

void RequestStream::push(TokenEvent event) {
  {
    MutexLock lock(mu_);
    events_.push_back(std::move(event));
  }
  cv_.notify_all();
}

void RequestStream::finish(RequestResult result) {
  {
    MutexLock lock(mu_);
    if (result_) return;  // first finish wins (cancel racing the end)
    result_ = std::move(result);
  }
  cv_.notify_all();
}

}  // namespace parklock::engine
