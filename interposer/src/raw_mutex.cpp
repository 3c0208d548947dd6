#include "raw_mutex.h"

#include "raw_log.h"
#include "spin_wait.h"

namespace parklock {

bool RawMutex::lock_slow(Word& word, const Deadline& deadline) {
  std::atomic_ref<int> state(word);
  SpinWait spin;
  int s = state.load(std::memory_order_relaxed);
  for (;;) {
    // Barging: take it whenever it is free, parked threads or not.
    if (!(s & kLocked)) {
      if (state.compare_exchange_weak(s, s | kLocked, std::memory_order_acquire,
                                      std::memory_order_relaxed))
        return true;
      continue;
    }
    // Spin only while nobody is parked: a queue means long hold times.
    if (!(s & kParked) && spin.spin()) {
      s = state.load(std::memory_order_relaxed);
      continue;
    }
    if (!(s & kParked)) {
      if (!state.compare_exchange_weak(s, s | kParked, std::memory_order_relaxed,
                                       std::memory_order_relaxed))
        continue;
    }
    if (deadline.has_passed()) {
      // Leave kParked for the next unlock to clear if nobody is queued.
      return false;
    }
    ParkOutcome outcome = park(
        &word,
        // Under the bucket lock: sleep only if the mutex is still held and
        // marked, or the unlock that clears kParked could miss us.
        [&] { return state.load(std::memory_order_relaxed) == (kLocked | kParked); },
        [] {},
        // Under the bucket lock: the last waiter to leave clears the mark.
        [&](const void*, bool key_was_emptied) {
          if (key_was_emptied) state.fetch_and(~kParked, std::memory_order_relaxed);
        },
        kDefaultParkToken, deadline);
    if (outcome.result == ParkResult::kUnparked && outcome.token == kTokenHandoff) return true;
    if (outcome.result == ParkResult::kTimedOut) return false;
    spin.reset();
    s = state.load(std::memory_order_relaxed);
  }
}

void RawMutex::unlock_slow(Word& word) {
  std::atomic_ref<int> state(word);
  // Unlocking an unlocked normal mutex is undefined; glibc lets it pass.
  if (!(state.load(std::memory_order_relaxed) & kLocked)) return;
  unpark_one(&word, [&](UnparkResult result) -> UnparkToken {
    if (result.unparked_threads != 0 && result.be_fair) {
      // Direct handoff: kLocked stays set; kParked stays only if others wait.
      if (!result.have_more_threads) state.store(kLocked, std::memory_order_relaxed);
      return kTokenHandoff;
    }
    state.store(result.have_more_threads ? kParked : 0, std::memory_order_release);
    return kTokenRetry;
  });
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
