// thread_parker.h: how one thread sleeps and is woken (the OS backend).
//
// Each thread owns one parker in its ThreadData. The protocol, driven by the
// parking lot under a bucket lock:
//
//   parked thread                          unparking thread
//   -------------                          ----------------
//   prepare_park()    [under bucket lock]
//   park_until()      [bucket unlocked]    unpark_lock()   [under bucket lock]
//                                          unpark_wake()   [bucket unlocked]
//
// unpark_lock() publishes the wake-up (release); park_until() observes it
// (acquire). unpark_wake() may run after the woken thread has returned, even
// exited: a futex wake on a stale address is harmless, and every futex wait in
// parklock re-checks its word, so a stray wake is never taken for a real one.
#pragma once

#include <atomic>
#include <cstdint>

#include "parking_lot.h"

namespace parklock {

class ThreadParker {
 public:
  constexpr ThreadParker() = default;

  void prepare_park() { state_.store(kParked, std::memory_order_relaxed); }

  // Sleeps until unpark_lock() has run or `deadline` passes. Returns false on
  // time-out; the caller must then take the bucket lock and check
  // was_unparked(), since an unpark may race with the deadline.
  bool park_until(const Deadline& deadline);

  // Under the bucket lock, after a time-out: did an unpark get here first?
  bool was_unparked() const { return state_.load(std::memory_order_acquire) == kUnparked; }

  void unpark_lock() { state_.store(kUnparked, std::memory_order_release); }
  void unpark_wake();

 private:
  static constexpr uint32_t kUnparked = 0;
  static constexpr uint32_t kParked = 1;

  std::atomic<uint32_t> state_{kUnparked};
};

}  // namespace parklock
