#include "word_lock.h"

#include "futex.h"
#include "spin_wait.h"

namespace parklock {

void WordLock::lock_slow() {
  // Spin while the holder is likely running: bucket sections are short.
  for (int i = 0; i < 100; ++i) {
    uint32_t expected = kUnlocked;
    if (state_.load(std::memory_order_relaxed) == kUnlocked &&
        state_.compare_exchange_weak(expected, kLocked, std::memory_order_acquire,
                                     std::memory_order_relaxed))
      return;
    cpu_relax();
  }
  // Once we have announced a sleeper, we must take the lock as "locked with
  // sleepers": we cannot know whether another sleeper remains.
  while (state_.exchange(kLockedWithSleepers, std::memory_order_acquire) != kUnlocked)
    futex::wait(state_, kLockedWithSleepers, CLOCK_MONOTONIC, nullptr);
}

void WordLock::unlock_slow() { futex::wake(state_, 1); }

}  // namespace parklock
