// raw_mutex.h: the parking mutex algorithm on a 32-bit state word.
//
// State word (the first 4 bytes of pthread_mutex_t, glibc's `__lock`):
//
//   bit 0  kLocked  the mutex is held
//   bit 1  kParked  threads may be parked on the mutex's address; an unlock
//                   that sees it must go through the parking lot
//   bit 2  kTimed   the holder's contended acquisition is being timed by the
//                   contention recorder: its unlock goes through the slow
//                   path to end the hold (set and cleared only by the holder,
//                   only while recording is on)
//   other  always 0
//
// All-zero is "unlocked, nobody parked", so PTHREAD_MUTEX_INITIALIZER and
// zeroed memory work. A waiter sets kParked before parking, and park's
// validate (under the bucket lock of the mutex's address) checks it is still
// set; it is cleared only under that bucket lock (by the unparker, or by the
// last waiter to time out). So whenever the bucket lock is held, "kParked
// clear" means "queue empty".
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
  static constexpr int kParked = 2;
  static constexpr int kTimed = 4;

  // Handed by an unlock to the thread it wakes (lock_algorithm.h's tokens).
  static constexpr UnparkToken kTokenRetry = parklock::kTokenRetry;
  static constexpr UnparkToken kTokenHandoff = parklock::kTokenHandoff;

  static bool try_lock(Word& word) {
    std::atomic_ref<int> state(word);
    int s = state.load(std::memory_order_relaxed);
    while (!(s & kLocked)) {
      if (state.compare_exchange_weak(s, s | kLocked, std::memory_order_acquire,
                                      std::memory_order_relaxed))
        return true;
    }
    return false;
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

  static bool is_locked(Word& word) { return std::atomic_ref<int>(word).load(std::memory_order_relaxed) & kLocked; }

  // For a condition variable's broadcast, under the mutex's bucket lock:
  // sets kParked if the mutex is held (the requeued waiters will then be woken
  // by its unlock) and reports whether it did.
  static bool mark_parked_if_locked(Word& word);
  // Likewise, unconditionally: threads were just queued on the mutex.
  static void mark_parked(Word& word) { std::atomic_ref<int>(word).fetch_or(kParked, std::memory_order_relaxed); }

  // The holder's contended acquisition is timed (ContentionProbe::acquired).
  static void mark_timed(Word& word) { std::atomic_ref<int>(word).fetch_or(kTimed, std::memory_order_relaxed); }

 private:
  static bool lock_slow(Word& word, const Deadline& deadline);
  static void lock_after_wait_slow(Word& word, const void* condvar);
  static bool wait(Word& word, const Deadline& deadline, ContentionProbe& probe);
  static void unlock_slow(Word& word);
};

}  // namespace parklock
