// word_lock.h: the lock that guards each parking-lot bucket.
//
// It cannot be a pthread mutex (that is what we implement) and must be tiny,
// since there are three buckets per thread. A 32-bit futex word:
//
//   0  unlocked
//   1  locked, nobody sleeping
//   2  locked, someone may be sleeping in futex_wait (unlock must wake)
//
// Bucket critical sections are a few dozen instructions, so a waiter spins
// briefly before sleeping. No fairness: buckets are never held for long.
#pragma once

#include <atomic>
#include <cstdint>

namespace parklock {

class WordLock {
 public:
  constexpr WordLock() = default;

  void lock() {
    uint32_t expected = kUnlocked;
    if (state_.compare_exchange_strong(expected, kLocked, std::memory_order_acquire,
                                       std::memory_order_relaxed))
      return;
    lock_slow();
  }

  void unlock() {
    if (state_.exchange(kUnlocked, std::memory_order_release) == kLockedWithSleepers) unlock_slow();
  }

  // For a fork() child, where the holder may not exist any more.
  void reset_after_fork() { state_.store(kUnlocked, std::memory_order_relaxed); }

 private:
  static constexpr uint32_t kUnlocked = 0;
  static constexpr uint32_t kLocked = 1;
  static constexpr uint32_t kLockedWithSleepers = 2;

  void lock_slow();
  void unlock_slow();

  std::atomic<uint32_t> state_{kUnlocked};
};

}  // namespace parklock
