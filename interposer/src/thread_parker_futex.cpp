// The Linux backend of ThreadParker: a private futex on the parker's word.
#include <cerrno>

#include "futex.h"
#include "thread_parker.h"

namespace parklock {

bool ThreadParker::park_until(const Deadline& deadline) {
  while (state_.load(std::memory_order_acquire) == kParked) {
    int err = futex::wait(state_, kParked, deadline.clock, deadline.at);
    // EINVAL: the kernel refused the deadline (negative seconds): it has passed.
    if (err == ETIMEDOUT || err == EINVAL) return state_.load(std::memory_order_acquire) == kUnparked;
  }
  return true;
}

void ThreadParker::unpark_wake() { futex::wake(state_, 1); }

}  // namespace parklock
