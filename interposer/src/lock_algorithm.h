// lock_algorithm.h: the one spin-then-park loop that every lock here waits in.
//
// A lock's slow path describes itself with a WaitSpec (its parking key, the
// bit that says "threads may be parked on that key", and two callbacks on its
// state word) and calls wait_for_lock(). The loop is the same for all of them:
//
//   look at the state:  free -> try to take it (a lost CAS retries at once)
//                       held -> spin while nobody is parked, then set the
//                               parked bit and park until unparked or the
//                               deadline; a handoff token means "yours"
//
// so the rules below hold for every lock, and the contention recorder sees
// every wait in one place (the caller's ContentionProbe, which it feeds).
//
// Parked-bit rule: the bit is set (CAS) by a thread about to park and checked
// again by park()'s validate under the bucket lock of the key; it is cleared
// only under that bucket lock: by an unparker that empties the queue, or by
// the last waiter to time out (timed_out callback here). So with the bucket
// lock held, "parked bit clear" means "nobody queued on the key".
#pragma once

#include <atomic>
#include <cstdint>

#include "function_ref.h"
#include "parking_lot.h"

namespace parklock {

class ContentionProbe;

// Handed by an unlock to the thread it wakes, for every lock here.
inline constexpr UnparkToken kTokenRetry = 0;    // the lock was released: race for it
inline constexpr UnparkToken kTokenHandoff = kHandoffToken;  // the lock is already yours
// The lock was released with its parked bit cleared although other threads
// are still queued: race for it, and set the bit again once you hold it (or
// when you park again). For a lock whose free state must be all-zero.
inline constexpr UnparkToken kTokenRetryOthersQueued = 2;

// What try_acquire says about one look at the state word.
enum class WaitStep {
  kAcquired,  // it took the lock
  kRetry,     // a CAS lost to another thread: `observed` holds the new state, look again
  kBlocked,   // the lock is held: spin, then park
  kRefused,   // the caller gives up for good (e.g. the reader count is at its limit)
};

enum class WaitResult {
  kAcquired,   // try_acquire took it
  kHandedOff,  // an unlock handed it over while we were parked
  kTimedOut,   // the deadline passed first; the lock is not held
  kRefused,    // try_acquire refused
};

template <typename Word>
struct WaitSpec {
  const void* key;  // where waiters park
  Word parked_bit;  // "threads may be parked on key"
  ParkToken park_token;
  // The key has at most one waiter (its time-out always clears the bit).
  bool single_waiter = false;
  // Passed to park(): whether a parked thread re-checks still_held by itself.
  Revalidate revalidate = Revalidate::kNever;
  // Without any lock held; `observed` is the state just loaded (a failed CAS
  // updates it).
  FunctionRef<WaitStep(Word& observed)> try_acquire;
  // Under the key's bucket lock, with the parked bit seen set: whether the
  // lock is still held, so that sleeping is safe (its unlock will see the bit).
  FunctionRef<bool(Word current)> still_held;
};

// Spins and parks until try_acquire succeeds or refuses, a handoff arrives,
// or `deadline` passes. Parks are reported to `probe` (may be nullptr).
// After kTokenRetryOthersQueued (or a revalidation that left others queued),
// an acquisition sets the parked bit.
template <typename Word>
WaitResult wait_for_lock(Word& word, const WaitSpec<Word>& spec, const Deadline& deadline,
                         ContentionProbe* probe);

extern template WaitResult wait_for_lock<int>(int&, const WaitSpec<int>&, const Deadline&,
                                              ContentionProbe*);
extern template WaitResult wait_for_lock<unsigned>(unsigned&, const WaitSpec<unsigned>&,
                                                   const Deadline&, ContentionProbe*);

}  // namespace parklock
