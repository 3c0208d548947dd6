// raw_mutex.h: the parking mutex algorithm on a 32-bit state word.
//
// State word (the first 4 bytes of pthread_mutex_t, glibc's `__lock`):
//
//   bit 0  kLocked   the mutex is held
//   bit 1  kGlibcWaiters  written only by glibc's own lock code (its
//                    "held, threads may sleep on the futex" value 2), when a
//                    caller bound to libc's pthread_mutex_lock uses one of
//                    our mutexes; an unlock that sees it wakes the futex too
//   bit 2  kTimed    the holder's contended acquisition is being timed by the
//                    contention recorder: its unlock goes through the slow
//                    path to end the hold (set and cleared only by the holder,
//                    only while recording is on)
//   bit 3  kParked   threads may be parked on the mutex's address; an unlock
//                    that sees it must go through the parking lot
//   other  always 0
//
// Zero is "unlocked" and nothing else is: a free mutex's word is exactly 0,
// and every non-zero word is held, as in glibc's encoding. So glibc's code
// and ours can share a mutex (a plugin loaded with RTLD_DEEPBIND, a
// dlsym'd libc pthread_mutex_lock) without two owners: each takes the mutex
// only by a CAS from 0. What glibc's code cannot do is wake our parked
// threads (it may also overwrite the word with its 2, wiping kParked), so
// parked threads re-check the word now and then (Revalidate::kPeriodically)
// and our unlock of a word with kGlibcWaiters wakes both kinds of waiter.
//
// Hence the unlock that wakes a waiter to race for the mutex releases it to
// 0, kParked included, even when others stay queued; it tells the woken
// thread so (kTokenRetryOthersQueued), which sets kParked again once it holds
// the mutex or parks again. Until then the queued threads are its charge.
//
// A waiter sets kParked (on a held word) before parking, and park's validate
// (under the bucket lock of the mutex's address) checks it is still set; it
// is cleared under that bucket lock (by the unparker, or by the last waiter to
// time out), or by a release as above.
//
// Fast paths (inline): lock = one CAS 0 -> kLocked; unlock = one CAS
// kLocked -> 0. Everything else is out of line in raw_mutex.cpp, where the
// wait itself is lock_algorithm.h's.
//
// Fairness: unlocks barge (the woken thread races with newcomers) until a
// waiter has been parked for the parking lot's fairness interval; then the
// unlock hands the lock to it directly (kLocked stays set across the handoff).
#pragma once

#include <atomic>
#include <cstdint>

#include "lock_algorithm.h"
#include "parking_lot.h"

namespace parklock {

class RawMutex {
 public:
  // The state word: `int& word`, accessed only through std::atomic_ref.
  // Its address is also the mutex's parking key.
  using Word = int;
  static constexpr int kLocked = 1;
  static constexpr int kGlibcWaiters = 2;
  static constexpr int kTimed = 4;
  static constexpr int kParked = 8;

  // Handed by an unlock to the thread it wakes (lock_algorithm.h's tokens).
  static constexpr UnparkToken kTokenRetry = parklock::kTokenRetry;
  static constexpr UnparkToken kTokenHandoff = parklock::kTokenHandoff;
  static constexpr UnparkToken kTokenRetryOthersQueued = parklock::kTokenRetryOthersQueued;

  static bool try_lock(Word& word) {
    int expected = 0;
    return std::atomic_ref<int>(word).compare_exchange_strong(
        expected, kLocked, std::memory_order_acquire, std::memory_order_relaxed);
  }

  static void lock(Word& word) {
    std::atomic_ref<int> state(word);
    int expected = 0;
    if (__builtin_expect(state.compare_exchange_strong(expected, kLocked, std::memory_order_acquire,
                                                       std::memory_order_relaxed),
                         1))
      return;
    lock_slow(word, Deadline::forever());
  }

  // False if `deadline` passed first (the mutex is then not held).
  static bool lock_until(Word& word, const Deadline& deadline) {
    std::atomic_ref<int> state(word);
    int expected = 0;
    if (state.compare_exchange_strong(expected, kLocked, std::memory_order_acquire,
                                      std::memory_order_relaxed))
      return true;
    return lock_slow(word, deadline);
  }

  // A condition variable's waiter taking its mutex back: a contended
  // acquisition is filed as kind condvar, labelled by `condvar`.
  static void lock_after_wait(Word& word, const void* condvar) {
    if (!try_lock(word)) lock_after_wait_slow(word, condvar);
  }

  static void unlock(Word& word) {
    std::atomic_ref<int> state(word);
    int expected = kLocked;
    if (__builtin_expect(state.compare_exchange_strong(expected, 0, std::memory_order_release,
                                                       std::memory_order_relaxed),
                         1))
      return;
    unlock_slow(word);
  }

  // Only while no other thread exists: plain load and store, no lock prefix.
  static bool try_lock_single_threaded(Word& word) {
    std::atomic_ref<int> state(word);
    if (state.load(std::memory_order_relaxed) != 0) return false;
    state.store(kLocked, std::memory_order_relaxed);
    return true;
  }
  static bool try_unlock_single_threaded(Word& word) {
    std::atomic_ref<int> state(word);
    if (state.load(std::memory_order_relaxed) != kLocked) return false;
    state.store(0, std::memory_order_relaxed);
    return true;
  }

  static bool is_locked(Word& word) { return std::atomic_ref<int>(word).load(std::memory_order_relaxed) != 0; }

  // By the holder, or by a broadcast requeueing waiters onto a mutex its
  // caller holds: threads are queued on the mutex, and its unlock must wake
  // them. Never on a free mutex (its word must stay 0).
  static void mark_parked(Word& word) { std::atomic_ref<int>(word).fetch_or(kParked, std::memory_order_relaxed); }

  // The holder's contended acquisition is timed (ContentionProbe::acquired).
  static void mark_timed(Word& word) { std::atomic_ref<int>(word).fetch_or(kTimed, std::memory_order_relaxed); }

 private:
  static bool lock_slow(Word& word, const Deadline& deadline);
  static void lock_after_wait_slow(Word& word, const void* condvar);
  static bool wait(Word& word, const Deadline& deadline, ContentionProbe& probe);
  static void unlock_slow(Word& word);
  static void release_to_mixed_waiters(Word& word);
};

}  // namespace parklock
