// contention_probe.h: the lock algorithms' one seam to the contention recorder.
//
// Locks measure; the recorder subscribes. A slow path constructs a
// ContentionProbe when it starts waiting, reports each park to it, and tells
// it when the lock is held; an unlock that wakes waiters reports that. With
// recording off (the default) every call is one relaxed load of a global
// flag, on slow paths only: fast paths never see a probe.
//
// With recording on, the probe reads the clock when the wait starts, takes
// the waiter's stack (1 in PARKLOCK_SAMPLE waits; the others are charged to
// the site this lock was last seen waited for at), and on acquisition adds
// the wait to its site when the thread parked or waited longer than
// kMinRecordedWaitNs. It never allocates, locks, or calls stdio, and a thread
// that re-enters it (the stack unwinder takes locks) records nothing inside.
#pragma once

#include <atomic>
#include <cstdint>

#include "lock_kind.h"
#include "parking_lot.h"
#include "site_table.h"

namespace parklock {

namespace recorder {
extern std::atomic<bool> g_active;
inline bool active() { return g_active.load(std::memory_order_relaxed); }
}  // namespace recorder

class ContentionProbe {
 public:
  // `lock` is the object whose name labels the wait (for a condvar waiter,
  // the condvar).
  ContentionProbe(LockKind kind, const void* lock) {
    if (__builtin_expect(recorder::active(), 0)) begin(kind, lock);
  }
  ContentionProbe(const ContentionProbe&) = delete;
  ContentionProbe& operator=(const ContentionProbe&) = delete;

  bool active() const { return active_; }

  void parked(const ParkOutcome& outcome) {
    if (__builtin_expect(active_, 0)) note_park(outcome);
  }

  // The caller now holds the lock. With `timed_word` (the state word its
  // unlock will pass to recorder::hold_ended), returns true if the hold is
  // to be measured: the caller then marks the lock so that its unlock goes
  // through the slow path.
  bool acquired(const void* timed_word = nullptr) {
    return __builtin_expect(active_, 0) && record_acquired(timed_word);
  }

  // A wait that the caller measured itself (a condvar waiter requeued onto
  // its mutex: park's time on the second queue).
  void add_wait(uint64_t ns) {
    if (__builtin_expect(active_, 0)) extra_wait_ns_ += ns;
  }

 private:
  void begin(LockKind kind, const void* lock);
  void note_park(const ParkOutcome& outcome);
  bool record_acquired(const void* timed_word);

  bool active_ = false;
  bool parked_ = false;
  LockKind kind_ = LockKind::kMutex;
  const void* lock_ = nullptr;
  uint64_t start_ns_ = 0;
  uint64_t extra_wait_ns_ = 0;
  Site* site_ = nullptr;
};

namespace recorder {

// The unlock of a lock whose acquisition asked for hold timing (see
// ContentionProbe::acquired). Call before the lock is released.
void hold_ended(const void* lock);

// An unlock woke waiters (or handed the lock over): charges the unlocker's
// call site with `caused_wait_ns`, the waiting its hold cost them (the
// parking lot's UnparkResult::waited_ns). Call after the lock is released.
void unlock_woke(LockKind kind, const void* lock, uint64_t caused_wait_ns);
inline void note_unlock_woke(LockKind kind, const void* lock, const UnparkResult& result) {
  if (__builtin_expect(active(), 0) && result.unparked_threads + result.requeued_threads != 0)
    unlock_woke(kind, lock, result.waited_ns);
}

// Process-wide counters, exact while recording is on.
struct Counters {
  std::atomic<uint64_t> contended_acquisitions{0};
  std::atomic<uint64_t> parks{0};
  std::atomic<uint64_t> fair_handoffs{0};
};
Counters& counters();
inline void note_handoff() {
  if (__builtin_expect(active(), 0)) counters().fair_handoffs.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace recorder
}  // namespace parklock
