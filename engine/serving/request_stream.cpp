#include "engine/serving/request_stream.h"


namespace parklock::engine {

// The stream's mutex stays unnamed: it lives for one request (see engine.h).
RequestStream::RequestStream(uint64_t id, Clock::time_point submit_time)
    : id_(id), submit_time_(submit_time) {}

bool RequestStream::next(TokenEvent* event) {
  MutexLock lock(mu_);
  while (events_.empty() && !result_) lock.wait(cv_);
  if (events_.empty()) return false;
  *event = std::move(events_.front());
  events_.pop_front();
  return true;
}

RequestResult RequestStream::wait() {
  MutexLock lock(mu_);
  while (!result_) lock.wait(cv_);
  return *result_;
}

std::optional<RequestResult> RequestStream::wait_for(Clock::duration timeout) {
  const auto deadline = Clock::now() + timeout;
  MutexLock lock(mu_);
  while (!result_) {
    if (lock.wait_until(cv_, deadline) == std::cv_status::timeout && !result_)
      return std::nullopt;
  }
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
