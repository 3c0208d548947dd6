#include "lock_algorithm.h"

#include "contention_probe.h"
#include "spin_wait.h"

namespace parklock {

template <typename Word>
[[gnu::cold, gnu::noinline]] WaitResult wait_for_lock(Word& word, const WaitSpec<Word>& spec,
                                                      const Deadline& deadline,
                                                      ContentionProbe* probe) {
  std::atomic_ref<Word> state(word);
  SpinWait spin;
  // Acquire loads: a waiter that finds the lock free without a CAS (the
  // last reader gone) must see what the leaving holder wrote.
  Word s = state.load(std::memory_order_acquire);
  // Threads we left queued are ours to mark once we hold the lock.
  bool mark_on_acquire = false;
  for (;;) {
    switch (spec.try_acquire(s)) {
      case WaitStep::kAcquired:
        if (mark_on_acquire) state.fetch_or(spec.parked_bit, std::memory_order_relaxed);
        return WaitResult::kAcquired;
      case WaitStep::kRefused: return WaitResult::kRefused;
      case WaitStep::kRetry: continue;  // no spin spent: someone else just moved
      case WaitStep::kBlocked: break;
    }
    // Spin only while nobody is parked: a queue means long hold times.
    if (!(s & spec.parked_bit) && spin.spin()) {
      s = state.load(std::memory_order_acquire);
      continue;
    }
    if (!(s & spec.parked_bit)) {
      if (!state.compare_exchange_weak(s, s | spec.parked_bit, std::memory_order_acquire,
                                       std::memory_order_acquire))
        continue;
    }
    // A deadline already past still parks: park() then times out at once and
    // runs timed_out, so the parked bit never stays set over an empty queue.
    ParkOutcome outcome = park(
        spec.key,
        // Under the key's bucket lock. Pairs with every unlock, which clears
        // the lock's held bits under this lock when it sees the parked bit:
        // either it already did (we do not sleep) or it will find us queued.
        [&] {
          Word v = state.load(std::memory_order_relaxed);
          return (v & spec.parked_bit) && spec.still_held(v);
        },
        [] {},
        // Under the bucket lock of the key: the last waiter to leave clears the mark.
        [&](const void*, bool key_was_emptied) {
          if (key_was_emptied || spec.single_waiter)
            state.fetch_and(Word(~spec.parked_bit), std::memory_order_relaxed);
        },
        spec.park_token, deadline, nullptr, spec.revalidate);
    if (probe) probe->parked(outcome);
    if (outcome.result == ParkResult::kUnparked && outcome.token == kTokenHandoff)
      return WaitResult::kHandedOff;
    if (outcome.result == ParkResult::kTimedOut) {
      // Threads queued without re-checks of their own (a condvar's waiters
      // moved onto a mutex) may have counted on ours: one of them takes over.
      if (spec.revalidate == Revalidate::kPeriodically && outcome.others_queued)
        unpark_one(spec.key, [](UnparkResult r) {
          return r.have_more_threads ? kTokenRetryOthersQueued : kTokenRetry;
        });
      return WaitResult::kTimedOut;
    }
    // A park that never slept changes nothing: a glibc unlock may have
    // wiped the bit this thread set just before.
    if (outcome.result != ParkResult::kInvalid)
      mark_on_acquire = outcome.token == kTokenRetryOthersQueued || outcome.others_queued;
    spin.reset();
    s = state.load(std::memory_order_acquire);
  }
}

template WaitResult wait_for_lock<int>(int&, const WaitSpec<int>&, const Deadline&,
                                       ContentionProbe*);
template WaitResult wait_for_lock<unsigned>(unsigned&, const WaitSpec<unsigned>&,
                                            const Deadline&, ContentionProbe*);

}  // namespace parklock
