// parking_lot.h: address-keyed wait queues, the one place where threads sleep.
//
// A lock keeps only its own state bits in place (a "parked" bit says that
// someone may be queued); everything about the sleeping threads lives here, in
// a hash table of buckets keyed by the lock's address. Each bucket is a FIFO
// queue guarded by a WordLock (never a pthread lock: we are the pthread lock).
//
// Callback contracts (what may run where):
//   - `validate`, `timed_out`, and every unpark callback run with the bucket
//     locked. They may only touch atomics of the lock that owns the key. They
//     must not park, unpark, allocate, or call into libc beyond raw syscalls:
//     another thread holding this bucket's lock may be the one they wait for.
//   - `before_sleep` runs after the thread is queued and the bucket unlocked.
//     It may unpark (a condition variable unlocks its mutex there), but must
//     not park.
//
// The table grows with the number of live threads (3 buckets per thread, a
// load factor that keeps a bucket's queue short); memory comes from mmap and
// old tables are never freed, because a thread may still be reading one.
// fork() is safe: the child resets every bucket lock (its holder may not
// have survived the fork) and drops the queues of the threads that did not.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>

#include "function_ref.h"

namespace parklock {

// Passed by a parking thread, read by unpark_filter's filter (e.g. an rwlock
// marks readers and writers).
using ParkToken = uintptr_t;
// Passed by the unparking thread to the woken one (e.g. "the lock is yours").
using UnparkToken = uintptr_t;

inline constexpr ParkToken kDefaultParkToken = 0;
inline constexpr UnparkToken kDefaultUnparkToken = 0;
// The token by which an unpark_one hands a lock to the woken thread. When
// that thread parked with Revalidate::kPeriodically, the handoff is tracked:
// left unclaimed for 100 ms (its thread jumped out of the wait), it passes
// to another waiter of the key at that one's next re-check, and a late
// claimant is told kDefaultUnparkToken instead.
inline constexpr UnparkToken kHandoffToken = 1;

// An absolute time on a given clock, or forever. Only CLOCK_REALTIME and
// CLOCK_MONOTONIC are accepted by park(); callers validate first.
struct Deadline {
  clockid_t clock = CLOCK_MONOTONIC;
  const timespec* at = nullptr;  // nullptr: wait forever

  static Deadline forever() { return {}; }
  static Deadline on(clockid_t clock, const timespec* at) { return {clock, at}; }
  bool is_forever() const { return at == nullptr; }
};

enum class ParkResult {
  kUnparked,  // woken by an unpark call; see `token`
  kInvalid,   // validate() returned false; the thread never slept
  kTimedOut,  // the deadline passed first; timed_out() ran
  // Revalidate::kPeriodically only: validate() turned false while the thread
  // slept; it left the queue as on a time-out (timed_out() ran).
  kNoLongerValid,
};

// Whether a sleeping thread looks at its lock again by itself.
enum class Revalidate {
  kNever,  // only an unpark or the deadline ends the sleep
  // Wake at growing intervals (1 ms, doubling to 128 ms) and run validate()
  // again under the bucket lock; sleep on while it holds. For a lock that can
  // be released without an unpark call: glibc's own code unlocking one of
  // our mutexes (a plugin bound to libc's pthread_mutex_unlock) knows nothing
  // of the parking lot.
  kPeriodically,
};

struct ParkOutcome {
  ParkResult result;
  UnparkToken token = kDefaultUnparkToken;  // meaningful when result == kUnparked
  // Time spent queued, in nanoseconds; after a requeue, only the time since
  // it (the wait for the second key). 0 for kInvalid.
  uint64_t waited_ns = 0;
  bool requeued = false;  // an unpark_requeue moved the thread to another key
  // kTimedOut and kNoLongerValid: other threads were still queued on the key
  // the thread left.
  bool others_queued = false;
};

// What an unpark call tells its callback (and returns).
struct UnparkResult {
  size_t unparked_threads = 0;
  size_t requeued_threads = 0;
  bool have_more_threads = false;  // threads with this key are still queued
  bool be_fair = false;            // the woken thread waited past the fairness interval
  // With wait accounting on: how long the threads queued on the key (those
  // woken and those left) have waited since an unpark last counted them, in
  // nanoseconds, summed; the count then restarts for those left. A lock's
  // unlock charges its holder with it (absl and Go charge unlockers alike).
  uint64_t waited_ns = 0;
};

// False while the calling thread runs park()'s before_sleep: it is queued,
// and parking again would queue it twice. Code that may run there (an unlock
// releasing a condvar's mutex) must then avoid anything that can block.
bool may_park();

// Turns the waited_ns accounting of unpark_one and unpark_filter on or off
// (off by default: it walks the whole queue of the key).
void set_wait_accounting(bool on);

// How unpark_requeue should move the threads queued on `from`.
enum class RequeueOp {
  kAbort,                 // touch nothing
  kUnparkOneRequeueRest,  // wake the first, move the rest to `to`
  kRequeueAll,            // move everyone to `to`
  kUnparkOne,             // wake the first, leave the rest on `from`
};

// What unpark_filter should do with each queued thread, in FIFO order.
enum class FilterOp {
  kUnpark,  // wake it
  kSkip,    // leave it queued, look at the next
  kStop,    // leave it and everything after it
};

// Queues the calling thread on `key` if validate() holds, then sleeps until
// unparked or until `deadline` (a deadline already past still queues and
// times out at once, so timed_out() runs and the lock's bits stay right). On time-out, timed_out(key, key_was_emptied)
// runs under the bucket lock after the thread has left the queue: `key` is
// the one it was queued on at the end (a requeue may have moved it), and
// `key_was_emptied` says whether it was the last thread queued there.
// Spurious returns do not happen: kUnparked means an unpark call chose us.
//
// With `on_cancel`, the sleep is a pthread cancellation point (as
// pthread_cond_wait's is; lock calls are not). A thread cancelled while
// asleep leaves the queue as on a time-out (timed_out() runs), then
// on_cancel(consumed_wakeup, token) runs, outside any bucket lock, before
// the cancellation unwinds on: `consumed_wakeup` says that an unpark had
// already chosen this thread (handing it `token`), whose wake-up the caller
// may need to pass on.
//
// With Revalidate::kPeriodically (not with on_cancel), the sleep also ends
// with kNoLongerValid when a periodic re-run of validate() fails.
ParkOutcome park(const void* key, FunctionRef<bool()> validate,
                 FunctionRef<void()> before_sleep,
                 FunctionRef<void(const void* key, bool key_was_emptied)> timed_out,
                 ParkToken park_token, const Deadline& deadline,
                 const FunctionRef<void(bool consumed_wakeup, UnparkToken token)>* on_cancel = nullptr,
                 Revalidate revalidate = Revalidate::kNever);

// Wakes the first thread queued on `key`, if any. callback(result) runs under
// the bucket lock whether or not a thread was found; its return value is the
// token handed to the woken thread.
UnparkResult unpark_one(const void* key, FunctionRef<UnparkToken(UnparkResult)> callback);

// Wakes every thread queued on `key`, giving each `token`. Returns the count.
size_t unpark_all(const void* key, UnparkToken token);

// Moves threads queued on `from` to the queue of `to` (waking at most one),
// as validate() decides under both bucket locks. callback(op, result) then
// runs, still under both locks, and returns the token for the woken thread.
UnparkResult unpark_requeue(const void* from, const void* to,
                            FunctionRef<RequeueOp()> validate,
                            FunctionRef<UnparkToken(RequeueOp, UnparkResult)> callback);

// Walks the queue of `key` in FIFO order, waking the threads that filter()
// picks by their park token. callback(result) runs under the bucket lock
// before anyone wakes and returns the token every woken thread receives.
UnparkResult unpark_filter(const void* key, FunctionRef<FilterOp(ParkToken)> filter,
                           FunctionRef<UnparkToken(UnparkResult)> callback);

// For a fork() child, before anything else runs there (fork_reset.cpp):
// drops every queue (their threads did not survive) and resets the bucket
// locks (their holders may not have).
void reset_parking_lot_after_fork();

}  // namespace parklock
