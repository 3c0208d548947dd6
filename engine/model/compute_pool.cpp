#include "engine/model/compute_pool.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "parklock.h"

namespace parklock::engine {

ComputePool::ComputePool(int threads) {
  if (threads < 1) throw std::invalid_argument("ComputePool: need at least 1 thread");
  PARKLOCK_SET_NAME(&mu_, "compute_pool");
  PARKLOCK_SET_NAME(&start_cv_, "compute_pool_start");
  PARKLOCK_SET_NAME(&done_cv_, "compute_pool_done");
  workers_.reserve(threads - 1);
  for (int part = 1; part < threads; ++part) workers_.emplace_back([this, part] { worker(part); });
}

ComputePool::~ComputePool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  start_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void ComputePool::call(int part) noexcept {
  try {
    invoke_(fn_, part, size());
  } catch (...) {
    std::lock_guard lock(mu_);
    if (!error_) error_ = std::current_exception();
  }
}

void ComputePool::run_erased(void* fn, Invoke invoke) {
  {
    std::lock_guard lock(mu_);
    fn_ = fn;
    invoke_ = invoke;
    error_ = nullptr;
    running_ = static_cast<int>(workers_.size());
    ++phase_;
  }
  start_cv_.notify_all();
  call(0);
  std::exception_ptr error;
  {
    std::unique_lock lock(mu_);
    done_cv_.wait(lock, [this] { return running_ == 0; });
    error = std::exchange(error_, nullptr);
  }
  if (error) std::rethrow_exception(error);
}

void ComputePool::worker(int part) {
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      start_cv_.wait(lock, [&] { return stopping_ || phase_ != seen; });
      if (stopping_) return;
      seen = phase_;
    }
    call(part);
    bool last;
    {
      std::lock_guard lock(mu_);
      last = --running_ == 0;
    }
    if (last) done_cv_.notify_one();
  }
}

PartRange part_range(int n, int part, int parts, int align) {
  const int units = (n + align - 1) / align;
  const int begin = std::min(n, static_cast<int>(static_cast<long>(units) * part / parts) * align);
  const int end = std::min(n, static_cast<int>(static_cast<long>(units) * (part + 1) / parts) * align);
  return {begin, end};
}

}  // namespace parklock::engine
