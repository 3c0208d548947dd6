// raw_condvar.h: the parking condition-variable algorithm on a 64-bit word.
//
// State word (the first 8 bytes of pthread_cond_t, glibc's `__wseq`):
//
//   0              nobody waits
//   kNoRequeue     threads wait, but broadcast must wake them all: their mutex
//                  is not a RawMutex (glibc's), or they used different ones
//   other          threads wait, all holding the RawMutex whose state word is
//                  at this address: broadcast requeues them onto it
//
// The word changes only under the bucket lock of the condvar's address (a
// waiter's validate, the notifier's callbacks, a timed-out waiter), so it is
// 0 exactly when the condvar's queue is empty.
//
// Waiting queues the thread first and releases the mutex after (the
// before-sleep step of park), so a notify that follows the release cannot
// miss the waiter. Broadcast wakes one thread and moves the rest onto the
// mutex's queue, or all of them if the broadcaster holds the mutex through
// our lock: its unlock then wakes them one at a time instead of a stampede.
// (Not when another thread holds it, or glibc's own code does: that unlock
// would not wake them; the one woken keeps watch, see raw_mutex.h.)
#pragma once

#include <atomic>
#include <cstdint>

#include "function_ref.h"
#include "parking_lot.h"
#include "raw_mutex.h"

namespace parklock {

class RawCondvar {
 public:
  using Word = unsigned long long;
  static constexpr Word kNoRequeue = 1;

  // The mutex a waiter holds, as the condvar needs to handle it.
  struct Mutex {
    RawMutex::Word* raw;  // its RawMutex state word, or nullptr if it is not one
    FunctionRef<void()> release;
    // Takes it back; `already_held`: a requeued waiter was handed it. (A
    // RawMutex is best taken with RawMutex::lock_after_wait, which files a
    // contended wait as kind condvar.)
    FunctionRef<void(bool already_held)> reacquire;
  };

  // Parks on `key` (the condvar's address) until notified or `deadline`,
  // releasing `mutex` once queued and holding it again on return. Returns
  // false on time-out. A cancellation point: a thread cancelled in here holds
  // the mutex again before the cancellation unwinds on.
  static bool wait(Word& word, const void* key, const Mutex& mutex, const Deadline& deadline);

  static void notify_one(Word& word, const void* key) {
    if (std::atomic_ref<Word>(word).load(std::memory_order_relaxed) == 0) return;
    notify_one_slow(word, key);
  }

  // `held_by_caller(mutex)`: whether the calling thread holds the waiters'
  // mutex (asked under bucket locks: it may only read the mutex's fields).
  static void notify_all(Word& word, const void* key,
                         FunctionRef<bool(const RawMutex::Word&)> held_by_caller) {
    if (std::atomic_ref<Word>(word).load(std::memory_order_relaxed) == 0) return;
    notify_all_slow(word, key, held_by_caller);
  }

 private:
  static void record_requeued_wait(const void* key, const Mutex& mutex, bool handed_lock,
                                   const ParkOutcome& outcome);
  static void notify_one_slow(Word& word, const void* key);
  static void notify_all_slow(Word& word, const void* key,
                              FunctionRef<bool(const RawMutex::Word&)> held_by_caller);
};

}  // namespace parklock
