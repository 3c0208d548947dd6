// rwlock_ops.h: pthread_rwlock_t semantics on top of RawRwLock.
//
// Layout (x86_64): we keep the glibc fields that initializers, attributes and
// debuggers read, and use the first word for our state.
//
//   offset  field                  glibc                  parklock
//   0       unsigned __readers     reader count + phase   RawRwLock state word
//   4..23   __writers, futexes,    writer state           unused (0)
//           __pad3, __pad4
//   24      int __cur_writer       writer's tid           same (EDEADLK checks)
//   28      int __shared           process-shared flag    non-zero: glibc's lock
//                                                         (pass-through)
//   32..47  __rwelision, pads                             unused (0)
//   48      unsigned __flags       kind (preference)      same
//
// PTHREAD_RWLOCK_INITIALIZER and PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP
// are all-zero except __flags, which is only read: both need no init call.
// glibc's pthread_rwlock_init zeroes the object and sets __flags and
// __shared, so a process-shared rwlock is recognised from its bytes alone and
// served by glibc in every process that maps it.
//
// Differences from glibc (undefined behaviour in POSIX, so none is relied on
// by correct programs; glibc returns 0 and corrupts the lock in both cases):
//   - unlocking a lock that nobody holds returns EPERM and changes nothing;
//   - unlocking a write lock held under another tid releases it and returns
//     0. This is the fork() child unlocking what its parent's thread locked
//     before the fork (pthread_atfork handlers do this), which then works.
//
// Timed calls check their arguments first, as glibc 2.36 does (EINVAL for an
// unsupported clock or a tv_nsec outside [0, 1e9), even when the lock is
// free), then EDEADLK (the caller holds the write lock), then wait.
#pragma once

#include <errno.h>
#include <pthread.h>

#include <atomic>
#include <cstddef>

#include "glibc_locks.h"
#include "lock_kind.h"
#include "lock_mode.h"
#include "observed_locks.h"
#include "lock_names.h"
#include "raw_rwlock.h"
#include "thread_id.h"
#include "timespec_checks.h"

namespace parklock::rwlock_ops {

static_assert(sizeof(pthread_rwlock_t) == 56);
static_assert(offsetof(__pthread_rwlock_arch_t, __readers) == 0);
static_assert(offsetof(__pthread_rwlock_arch_t, __cur_writer) == 24);
static_assert(offsetof(__pthread_rwlock_arch_t, __shared) == 28);
static_assert(offsetof(__pthread_rwlock_arch_t, __flags) == 48);
static_assert(sizeof(RawRwLock::Word) == sizeof(pthread_rwlock_t{}.__data.__readers));
static_assert(alignof(pthread_rwlock_t) >= alignof(std::atomic<RawRwLock::Word>));
static_assert(PTHREAD_RWLOCK_PREFER_READER_NP == 0 && PTHREAD_RWLOCK_PREFER_WRITER_NP == 1 &&
              PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP == 2);

inline RawRwLock::Word& word(pthread_rwlock_t* rw) { return rw->__data.__readers; }

// __shared: 0 for ours. glibc's init writes 1 for a process-shared rwlock,
// which stays glibc's; parklock_set_rwlock_name writes kNamedMark into one
// of ours, so that its lock calls leave the fast path and count
// (lock_names.h). Read on every call: non-zero is the cold branch.
inline constexpr int kNamedMark = 0x6e616d65;  // "name"
inline int shared_field(pthread_rwlock_t* rw) {
  return std::atomic_ref<int>(rw->__data.__shared).load(std::memory_order_relaxed);
}
inline bool is_shared(pthread_rwlock_t* rw) {
  int shared = shared_field(rw);
  return shared != 0 && shared != kNamedMark;
}
// The cold branch: process-shared, named, or observe-only mode.
inline bool is_special(pthread_rwlock_t* rw) { return shared_field(rw) != 0 || observe_only(); }

// Marks one of ours as named; a no-op for a process-shared one.
inline void mark_named(pthread_rwlock_t* rw) {
  int ours = 0;
  std::atomic_ref<int>(rw->__data.__shared).compare_exchange_strong(ours, kNamedMark, std::memory_order_relaxed);
}

// Every entry point's cold branch: glibc serves observe-only mode and
// process-shared rwlocks (`glibc_call`); a named one of ours runs `ours` and
// counts a successful acquisition as `kind` (unless `kind` is null).
template <typename Ours, typename Glibc>
int special(pthread_rwlock_t* rw, const LockKind* kind, Ours ours, Glibc glibc_call) {
  if (observe_only() || is_shared(rw)) return glibc_call();
  int r = ours();
  if (r == 0 && kind) lock_names::count_acquisition(rw, *kind);
  return r;
}
inline constexpr LockKind kRead = LockKind::kRwlockRead;
inline constexpr LockKind kWrite = LockKind::kRwlockWrite;

inline RawRwLock::Preference preference(pthread_rwlock_t* rw) {
  unsigned flags = std::atomic_ref<unsigned>(rw->__data.__flags).load(std::memory_order_relaxed);
  // PREFER_WRITER_NP is reader preference in glibc too (it would deadlock
  // recursive readers otherwise).
  return flags == PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP ? RawRwLock::Preference::kWriters
                                                               : RawRwLock::Preference::kReaders;
}

// The write owner's tid, or 0. Written only by the owner, after acquiring and
// before releasing, so a thread that reads its own tid here holds the lock.
inline int writer_tid(pthread_rwlock_t* rw) {
  return std::atomic_ref<int>(rw->__data.__cur_writer).load(std::memory_order_relaxed);
}
inline void set_writer_tid(pthread_rwlock_t* rw, int tid) {
  std::atomic_ref<int>(rw->__data.__cur_writer).store(tid, std::memory_order_relaxed);
}

inline int init(pthread_rwlock_t* rw, const pthread_rwlockattr_t* attr) {
  int pshared = PTHREAD_PROCESS_PRIVATE;
  int kind = PTHREAD_RWLOCK_DEFAULT_NP;
  if (attr != nullptr) {
    pthread_rwlockattr_getpshared(attr, &pshared);
    pthread_rwlockattr_getkind_np(attr, &kind);
  }
  if (pshared != PTHREAD_PROCESS_PRIVATE || observe_only()) return glibc::rwlock_init(rw, attr);
  __builtin_memset(rw, 0, sizeof(*rw));
  rw->__data.__flags = static_cast<unsigned>(kind);
  return 0;
}

// glibc's destroy checks nothing either.
inline int destroy(pthread_rwlock_t* rw) {
  lock_names::forget_on_destroy(rw);
  if (is_shared(rw) || observe_only()) return glibc::rwlock_destroy(rw);
  return 0;
}

inline int map_read_result(RawRwLock::Acquire result) {
  switch (result) {
    case RawRwLock::Acquire::kAcquired: return 0;
    case RawRwLock::Acquire::kBusy: return EBUSY;
    case RawRwLock::Acquire::kTimedOut: return ETIMEDOUT;
    case RawRwLock::Acquire::kTooManyReaders: return EAGAIN;
  }
  __builtin_unreachable();
}

// After the fast path failed: a writer holds or claimed the lock.
inline int rdlock_until(pthread_rwlock_t* rw, const Deadline& deadline) {
  if (__builtin_expect(RawRwLock::try_lock_shared_fast(word(rw)), 1)) return 0;
  if (writer_tid(rw) == current_tid()) return EDEADLK;
  return map_read_result(RawRwLock::lock_shared(word(rw), deadline));
}

inline int wrlock_until(pthread_rwlock_t* rw, const Deadline& deadline) {
  int tid = current_tid();
  if (!__builtin_expect(RawRwLock::try_lock_exclusive_fast(word(rw)), 1)) {
    if (writer_tid(rw) == tid) return EDEADLK;
    if (!RawRwLock::lock_exclusive(word(rw), preference(rw), deadline)) return ETIMEDOUT;
  }
  set_writer_tid(rw, tid);
  return 0;
}

inline int rdlock(pthread_rwlock_t* rw) {
  if (__builtin_expect(is_special(rw), 0))
    return special(rw, &kRead, [&] { return rdlock_until(rw, Deadline::forever()); },
                   [&] { return observed::rwlock_rdlock(rw); });
  return rdlock_until(rw, Deadline::forever());
}

inline int wrlock(pthread_rwlock_t* rw) {
  if (__builtin_expect(is_special(rw), 0))
    return special(rw, &kWrite, [&] { return wrlock_until(rw, Deadline::forever()); },
                   [&] { return observed::rwlock_wrlock(rw); });
  return wrlock_until(rw, Deadline::forever());
}

inline int tryrdlock(pthread_rwlock_t* rw) {
  auto ours = [&] { return map_read_result(RawRwLock::try_lock_shared(word(rw))); };
  if (__builtin_expect(is_special(rw), 0)) return special(rw, &kRead, ours, [&] { return glibc::rwlock_tryrdlock(rw); });
  return ours();
}

inline int trywrlock(pthread_rwlock_t* rw) {
  auto ours = [&] {
    if (!RawRwLock::try_lock_exclusive(word(rw))) return EBUSY;
    set_writer_tid(rw, current_tid());
    return 0;
  };
  if (__builtin_expect(is_special(rw), 0)) return special(rw, &kWrite, ours, [&] { return glibc::rwlock_trywrlock(rw); });
  return ours();
}

// A null abstime waits forever, as with glibc.
inline bool valid_deadline(clockid_t clock, const timespec* abstime) {
  return abstime == nullptr || (is_supported_clock(clock) && is_valid_timespec(abstime));
}

inline int clockrdlock(pthread_rwlock_t* rw, clockid_t clock, const timespec* abstime) {
  auto ours = [&] {
    if (!valid_deadline(clock, abstime)) return EINVAL;
    return rdlock_until(rw, Deadline::on(clock, abstime));
  };
  if (__builtin_expect(is_special(rw), 0))
    return special(rw, &kRead, ours, [&] { return observed::rwlock_clockrdlock(rw, clock, abstime); });
  return ours();
}

// glibc's timed calls are its clock calls on CLOCK_REALTIME.
inline int timedrdlock(pthread_rwlock_t* rw, const timespec* abstime) {
  return clockrdlock(rw, CLOCK_REALTIME, abstime);
}

inline int clockwrlock(pthread_rwlock_t* rw, clockid_t clock, const timespec* abstime) {
  auto ours = [&] {
    if (!valid_deadline(clock, abstime)) return EINVAL;
    return wrlock_until(rw, Deadline::on(clock, abstime));
  };
  if (__builtin_expect(is_special(rw), 0))
    return special(rw, &kWrite, ours, [&] { return observed::rwlock_clockwrlock(rw, clock, abstime); });
  return ours();
}

inline int timedwrlock(pthread_rwlock_t* rw, const timespec* abstime) {
  return clockwrlock(rw, CLOCK_REALTIME, abstime);
}

inline int unlock_ours(pthread_rwlock_t* rw) {
  // The write owner is known by its tid: the reader bits cannot tell, since a
  // reader's fast-path increment may sit there for an instant while a writer
  // holds the lock. For a correct caller the rest is stable: a reader's own
  // count keeps the reader bits non-zero.
  RawRwLock::Word s = RawRwLock::load(word(rw));
  bool write_owner = (s & RawRwLock::kWriter) && writer_tid(rw) == current_tid();
  if (!write_owner && (s & RawRwLock::kReaderMask)) {
    // The caller is a reader (a writer-preference claimant may hold kWriter
    // meanwhile, but it holds nothing yet).
    RawRwLock::unlock_shared(word(rw));
    return 0;
  }
  if (!(s & RawRwLock::kWriter)) return EPERM;
  set_writer_tid(rw, 0);
  RawRwLock::unlock_exclusive(word(rw), preference(rw));
  return 0;
}

inline int unlock(pthread_rwlock_t* rw) {
  if (__builtin_expect(is_special(rw), 0))
    return special(rw, nullptr, [&] { return unlock_ours(rw); }, [&] { return glibc::rwlock_unlock(rw); });
  return unlock_ours(rw);
}

}  // namespace parklock::rwlock_ops
