#include "raw_condvar.h"

#include "contention_probe.h"

namespace parklock {

bool RawCondvar::wait(Word& word, const void* key, const Mutex& mutex, const Deadline& deadline) {
  std::atomic_ref<Word> state(word);
  const Word target = mutex.raw ? Word(reinterpret_cast<uintptr_t>(mutex.raw)) : kNoRequeue;
  bool requeued = false;
  // A broadcast that woke us left the others on the free mutex's queue
  // without its kParked: ours to set once we hold it (raw_mutex.h).
  auto reacquire = [&](bool woken, UnparkToken token) {
    mutex.reacquire(woken && token == RawMutex::kTokenHandoff);
    if (woken && token == RawMutex::kTokenRetryOthersQueued && mutex.raw) RawMutex::mark_parked(*mutex.raw);
  };
  // POSIX: a cancelled waiter must not swallow a signal meant for another, so
  // a wake-up it had consumed is passed on (at worst a spurious wake-up).
  auto reacquire_on_cancel = [&](bool consumed_wakeup, UnparkToken token) {
    if (consumed_wakeup) notify_one(word, key);
    reacquire(consumed_wakeup, token);
  };
  // Named: park() calls it long after this statement.
  FunctionRef<void(bool, UnparkToken)> on_cancel = reacquire_on_cancel;
  ParkOutcome outcome = park(
      key,
      // Under the condvar's bucket lock.
      [&] {
        Word current = state.load(std::memory_order_relaxed);
        if (current == 0) state.store(target, std::memory_order_relaxed);
        else if (current != target) state.store(kNoRequeue, std::memory_order_relaxed);
        return true;
      },
      mutex.release,
      // Under the bucket lock of whichever queue we left.
      [&](const void* final_key, bool key_was_emptied) {
        requeued = final_key != key;
        if (!key_was_emptied) return;
        if (requeued)
          std::atomic_ref<int>(*mutex.raw).fetch_and(~RawMutex::kParked, std::memory_order_relaxed);
        else
          state.store(0, std::memory_order_relaxed);
      },
      kDefaultParkToken, deadline, &on_cancel);
  const bool woken = outcome.result == ParkResult::kUnparked;
  bool handed_lock = woken && outcome.token == RawMutex::kTokenHandoff;
  if (outcome.requeued) record_requeued_wait(key, mutex, handed_lock, outcome);
  reacquire(woken, outcome.token);
  // A requeued waiter was notified; its deadline merely ran out on the mutex queue.
  return outcome.result != ParkResult::kTimedOut || requeued;
}

// A broadcast moved the waiter onto the mutex's queue: its time there is a
// wait for the mutex, filed as kind condvar under the condvar's label. If it
// was handed the mutex, that acquisition's hold is timed too; if it was
// woken to race for it and loses, lock_after_wait files that wait as well.
void RawCondvar::record_requeued_wait(const void* key, const Mutex& mutex, bool handed_lock,
                                      const ParkOutcome& outcome) {
  ContentionProbe probe(LockKind::kCondvar, key);
  probe.parked(outcome);
  probe.add_wait(outcome.waited_ns);
  if (probe.acquired(handed_lock ? mutex.raw : nullptr)) RawMutex::mark_timed(*mutex.raw);
}

// Signal wakes the waiter even when the caller holds the mutex, rather than
// moving it onto the mutex's queue as broadcast does. Moving it ("wait
// morphing") was measured in bench/condvar_bench: it sets the mutex's kParked
// bit, which sends the holder's unlock through the parking lot and stops
// every other locker from spinning. Producer/consumer throughput fell from
// 3-4x glibc's to 1.3-1.9x on 2 cores, and ping-pong did not gain.
void RawCondvar::notify_one_slow(Word& word, const void* key) {
  std::atomic_ref<Word> state(word);
  unpark_one(key, [&](UnparkResult result) {
    if (!result.have_more_threads) state.store(0, std::memory_order_relaxed);
    return RawMutex::kTokenRetry;
  });
}

void RawCondvar::notify_all_slow(Word& word, const void* key,
                                 FunctionRef<bool(const RawMutex::Word&)> held_by_caller) {
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
          // Our unlock, to come, wakes the requeued threads one per unlock.
          // Otherwise one of them is woken to take the mutex, or to wait for
          // it with re-checks that glibc's code cannot outrun.
          if (!held_by_caller(*mutex)) return RequeueOp::kUnparkOneRequeueRest;
          RawMutex::mark_parked(*mutex);
          return RequeueOp::kRequeueAll;
        },
        [&](RequeueOp, UnparkResult r) {
          return r.requeued_threads != 0 ? RawMutex::kTokenRetryOthersQueued
                                         : RawMutex::kTokenRetry;
        });
    if (!word_changed) return;
  }
}

}  // namespace parklock
