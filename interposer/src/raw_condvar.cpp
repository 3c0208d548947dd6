#include "raw_condvar.h"

namespace parklock {

RawCondvar::WaitResult RawCondvar::wait(Word& word, const void* key, RawMutex::Word* mutex,
                                        FunctionRef<void()> release_mutex,
                                        const Deadline& deadline) {
  std::atomic_ref<Word> state(word);
  const Word target = mutex ? Word(reinterpret_cast<uintptr_t>(mutex)) : kNoRequeue;
  bool requeued = false;
  ParkOutcome outcome = park(
      key,
      // Under the condvar's bucket lock.
      [&] {
        Word current = state.load(std::memory_order_relaxed);
        if (current == 0) state.store(target, std::memory_order_relaxed);
        else if (current != target) state.store(kNoRequeue, std::memory_order_relaxed);
        return true;
      },
      release_mutex,
      // Under the bucket lock of whichever queue we timed out on.
      [&](const void* final_key, bool key_was_emptied) {
        requeued = final_key != key;
        if (!key_was_emptied) return;
        if (requeued)
          std::atomic_ref<int>(*mutex).fetch_and(~RawMutex::kParked, std::memory_order_relaxed);
        else
          state.store(0, std::memory_order_relaxed);
      },
      kDefaultParkToken, deadline);
  if (outcome.result == ParkResult::kUnparked)
    return outcome.token == RawMutex::kTokenHandoff ? WaitResult::kHandedLock : WaitResult::kNotified;
  // A requeued waiter was notified; its deadline ran out on the mutex queue.
  return requeued ? WaitResult::kNotified : WaitResult::kTimedOut;
}

void RawCondvar::notify_one_slow(Word& word, const void* key) {
  std::atomic_ref<Word> state(word);
  unpark_one(key, [&](UnparkResult result) {
    if (!result.have_more_threads) state.store(0, std::memory_order_relaxed);
    return RawMutex::kTokenRetry;
  });
}

void RawCondvar::notify_all_slow(Word& word, const void* key) {
  std::atomic_ref<Word> state(word);
  for (;;) {
    Word target = state.load(std::memory_order_relaxed);
    if (target == 0) return;
    if (target == kNoRequeue) {
      unpark_filter(
          key, [](ParkToken) { return FilterOp::kUnpark; },
          [&](UnparkResult) {
            state.store(0, std::memory_order_relaxed);
            return RawMutex::kTokenRetry;
          });
      return;
    }
    auto* mutex = reinterpret_cast<RawMutex::Word*>(uintptr_t(target));
    bool word_changed = false;
    unpark_requeue(
        key, mutex,
        // Under both bucket locks.
        [&] {
          if (state.load(std::memory_order_relaxed) != target) {
            word_changed = true;  // waiters left, or another mutex joined
            return RequeueOp::kAbort;
          }
          state.store(0, std::memory_order_relaxed);
          // A held mutex wakes the requeued threads itself, one per unlock;
          // a free one needs one of them woken to take it.
          return RawMutex::mark_parked_if_locked(*mutex) ? RequeueOp::kRequeueAll
                                                        : RequeueOp::kUnparkOneRequeueRest;
        },
        [&](RequeueOp op, UnparkResult r) {
          if (op == RequeueOp::kUnparkOneRequeueRest && r.requeued_threads != 0)
            RawMutex::mark_parked(*mutex);
          return RawMutex::kTokenRetry;
        });
    if (!word_changed) return;
  }
}

}  // namespace parklock
