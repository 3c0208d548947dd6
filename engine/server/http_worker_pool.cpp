#include "engine/server/http_worker_pool.h"

#include "parklock.h"

namespace parklock::engine::server {

HttpWorkerPool::HttpWorkerPool(int threads) {
  PARKLOCK_SET_NAME(&mu_, "http_worker_queue");
  PARKLOCK_SET_NAME(&cv_, "http_worker_queue_cv");
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
}

HttpWorkerPool::~HttpWorkerPool() { shutdown(); }

void HttpWorkerPool::enqueue(std::function<void()> fn) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(fn));
  }
  cv_.notify_one();
}

void HttpWorkerPool::shutdown() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void HttpWorkerPool::work() {
  for (;;) {
    std::function<void()> fn;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left
      fn = std::move(queue_.front());
      queue_.pop_front();
    }
    fn();
  }
}

}  // namespace parklock::engine::server
