#include "raw_mutex.h"

#include "contention_probe.h"
#include "futex.h"
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
       // glibc's code may release the mutex behind the parking lot's back.
       .revalidate = Revalidate::kPeriodically,
       // Barging: take it whenever it is free, parked threads or not.
       .try_acquire =
           [&](int& s) {
             if (s != 0) return WaitStep::kBlocked;
             return state.compare_exchange_weak(s, kLocked, std::memory_order_acquire,
                                                std::memory_order_relaxed)
                        ? WaitStep::kAcquired
                        : WaitStep::kRetry;
           },
       .still_held = [](int v) { return (v & ~kParked) != 0; }},
      deadline, &probe);
  if (result == WaitResult::kTimedOut) return false;
  if (probe.acquired(&word)) mark_timed(word);
  return true;
}

// The word carries glibc's kGlibcWaiters: glibc's code has threads asleep on
// the futex, and its 2 may have wiped our kParked. Wake one of each kind, as
// a plain release: whoever wins takes the mutex by a CAS from 0.
void RawMutex::release_to_mixed_waiters(Word& word) {
  std::atomic_ref<int>(word).store(0, std::memory_order_release);
  futex::wake_private(&word, 1);
  UnparkResult woke = unpark_one(&word, [](UnparkResult result) {
    return result.have_more_threads ? kTokenRetryOthersQueued : kTokenRetry;
  });
  recorder::note_unlock_woke(LockKind::kMutex, &word, woke);
}

void RawMutex::unlock_slow(Word& word) {
  std::atomic_ref<int> state(word);
  int s = state.load(std::memory_order_relaxed);
  // Unlocking an unlocked normal mutex is undefined; glibc lets it pass.
  if (s == 0) return;
  if (s & kTimed) recorder::hold_ended(&word);
  // Only the timing bit sent us here: nobody to wake.
  while (!(s & (kParked | kGlibcWaiters))) {
    if (state.compare_exchange_weak(s, 0, std::memory_order_release, std::memory_order_relaxed))
      return;
  }
  if (s & kGlibcWaiters) return release_to_mixed_waiters(word);
  bool glibc_waiters = false;
  UnparkResult woke = unpark_one(&word, [&](UnparkResult result) -> UnparkToken {
    const bool handoff = result.unparked_threads != 0 && result.be_fair;
    // Direct handoff: kLocked stays set; kParked stays only if others wait.
    // A release leaves exactly 0, whoever is still queued.
    const int next = handoff ? kLocked | (result.have_more_threads ? kParked : 0) : 0;
    // glibc's 2 may have landed since we looked: a handoff keeps it for the
    // next unlock, a release wakes its futex.
    int now = state.load(std::memory_order_relaxed);
    while (!state.compare_exchange_weak(now, next | (handoff ? now & kGlibcWaiters : 0),
                                        std::memory_order_release, std::memory_order_relaxed)) {
    }
    glibc_waiters = !handoff && (now & kGlibcWaiters);
    if (handoff) return kTokenHandoff;
    return result.have_more_threads ? kTokenRetryOthersQueued : kTokenRetry;
  });
  if (glibc_waiters) futex::wake_private(&word, 1);
  if (woke.be_fair && woke.unparked_threads != 0) recorder::note_handoff();
  recorder::note_unlock_woke(LockKind::kMutex, &word, woke);
}

}  // namespace parklock
