#include "raw_mutex.h"

#include "contention_probe.h"
#include "raw_log.h"

namespace parklock {

bool RawMutex::lock_slow(Word& word, const Deadline& deadline) {
  ContentionProbe probe(LockKind::kMutex, &word);
  return wait(word, deadline, probe);
}

void RawMutex::lock_after_wait_slow(Word& word, const void* condvar) {
  ContentionProbe probe(LockKind::kCondvar, condvar);
  wait(word, Deadline::forever(), probe);
}

bool RawMutex::wait(Word& word, const Deadline& deadline, ContentionProbe& probe) {
  std::atomic_ref<int> state(word);
  WaitResult result = wait_for_lock<int>(
      word,
      {.key = &word,
       .parked_bit = kParked,
       .park_token = kDefaultParkToken,
       // Barging: take it whenever it is free, parked threads or not.
       .try_acquire =
           [&](int& s) {
             if (s & kLocked) return WaitStep::kBlocked;
             return state.compare_exchange_weak(s, s | kLocked, std::memory_order_acquire,
                                                std::memory_order_relaxed)
                        ? WaitStep::kAcquired
                        : WaitStep::kRetry;
           },
       .still_held = [](int v) { return (v & kLocked) != 0; }},
      deadline, &probe);
  if (result == WaitResult::kTimedOut) return false;
  if (probe.acquired(&word)) mark_timed(word);
  return true;
}

void RawMutex::unlock_slow(Word& word) {
  std::atomic_ref<int> state(word);
  int s = state.load(std::memory_order_relaxed);
  // Unlocking an unlocked normal mutex is undefined; glibc lets it pass.
  if (!(s & kLocked)) return;
  if (s & kTimed) recorder::hold_ended(&word);
  // Only the timing bit sent us here: nobody to wake.
  while (!(s & kParked)) {
    if (state.compare_exchange_weak(s, 0, std::memory_order_release, std::memory_order_relaxed))
      return;
  }
  UnparkResult woke = unpark_one(&word, [&](UnparkResult result) -> UnparkToken {
    if (result.unparked_threads != 0 && result.be_fair) {
      // Direct handoff: kLocked stays set; kParked stays only if others wait.
      state.store(kLocked | (result.have_more_threads ? kParked : 0), std::memory_order_relaxed);
      return kTokenHandoff;
    }
    state.store(result.have_more_threads ? kParked : 0, std::memory_order_release);
    return kTokenRetry;
  });
  if (woke.be_fair && woke.unparked_threads != 0) recorder::note_handoff();
  recorder::note_unlock_woke(LockKind::kMutex, &word, woke);
}

bool RawMutex::mark_parked_if_locked(Word& word) {
  std::atomic_ref<int> state(word);
  int s = state.load(std::memory_order_relaxed);
  for (;;) {
    if (!(s & kLocked)) return false;
    if (state.compare_exchange_weak(s, s | kParked, std::memory_order_relaxed,
                                    std::memory_order_relaxed))
      return true;
  }
}

}  // namespace parklock
