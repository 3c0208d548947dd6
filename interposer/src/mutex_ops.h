// mutex_ops.h: pthread_mutex_t semantics on top of RawMutex.
//
// Layout: we keep glibc's field meanings, so glibc's static initializers,
// its attribute functions and tools that peek at mutexes keep working.
//
//   offset  field            glibc                      parklock
//   0       int __lock       futex word                 RawMutex state word
//   4       unsigned __count recursion count            same (recursive kind)
//   8       int __owner      owner tid                  same
//   12      unsigned __nusers  holders (+1 at lock,     untouched: non-zero only
//                            -1 at unlock)              while glibc's own code
//                                                       (a plugin bound to libc's
//                                                       lock) holds it
//   16      int __kind       type | robust, PI, PP,     type; a mutex with any of
//                            pshared bits; -1 once      those bits, or -1, is
//                            destroyed                  glibc's (pass-through)
//
// Every kind records its owner in __owner, as glibc does: debuggers (gdb's
// pretty printer) and tools read it to say who holds a lock, which is what a
// hang needs most. For normal and adaptive mutexes it is a plain store of
// the cached tid after the lock's one atomic and before the unlock's (the
// line is already ours); nothing reads it back. Errorcheck and recursive ones
// also check it, and keep the recursion count.
//
// While the process has a single thread (glibc's __libc_single_threaded),
// nobody can contend, so lock and unlock are plain loads and stores, as in
// glibc: without this, single-threaded programs (whose libstdc++ still
// locks) would pay ~3x glibc's cost per lock/unlock pair.
#pragma once

#include <pthread.h>
#include <sys/single_threaded.h>

#include <atomic>

#include "lock_mode.h"
#include "raw_mutex.h"
#include "thread_id.h"

namespace parklock::mutex_ops {

// glibc's __kind bits (nptl/pthreadP.h).
inline constexpr int kTypeMask = 3;  // PTHREAD_MUTEX_KIND_MASK_NP
inline constexpr int kRobustBit = 16;
inline constexpr int kPrioInheritBit = 32;
inline constexpr int kPrioProtectBit = 64;
inline constexpr int kProcessSharedBit = 128;
inline constexpr int kGlibcOnlyBits = kRobustBit | kPrioInheritBit | kPrioProtectBit | kProcessSharedBit;
// Ours: set by parklock_set_mutex_name on one of our mutexes, so that its
// lock calls leave the fast path and count (lock_names.h). glibc's code
// masks __kind with 127 | 256 before it looks at it, so it ignores the bit
// (observe-only mode runs glibc's code on it).
inline constexpr int kNamedBit = 1 << 10;

static_assert(sizeof(pthread_mutex_t) == 40);
static_assert(offsetof(__pthread_mutex_s, __lock) == 0);
static_assert(offsetof(__pthread_mutex_s, __count) == 4);
static_assert(offsetof(__pthread_mutex_s, __owner) == 8);
static_assert(offsetof(__pthread_mutex_s, __kind) == 16);
static_assert(PTHREAD_MUTEX_NORMAL == 0 && PTHREAD_MUTEX_RECURSIVE == 1 &&
              PTHREAD_MUTEX_ERRORCHECK == 2 && PTHREAD_MUTEX_ADAPTIVE_NP == 3);

inline int kind(pthread_mutex_t* m) {
  return std::atomic_ref<int>(m->__data.__kind).load(std::memory_order_relaxed);
}
// Ours unless glibc must serve it (shared, robust, PI/PP) or it was destroyed.
inline bool is_ours(int kind) { return kind >= 0 && !(kind & kGlibcOnlyBits); }
inline bool needs_owner(int kind) {
  int type = kind & kTypeMask;
  return type == PTHREAD_MUTEX_RECURSIVE || type == PTHREAD_MUTEX_ERRORCHECK;
}
inline RawMutex::Word& word(pthread_mutex_t* m) { return m->__data.__lock; }
inline bool is_named(int kind) { return kind >= 0 && (kind & kNamedBit); }
// Marks one of our mutexes as named; a no-op for glibc's.
void mark_named(pthread_mutex_t* m);
inline pid_t owner(pthread_mutex_t* m) {
  return std::atomic_ref<int>(m->__data.__owner).load(std::memory_order_relaxed);
}
// Whether the calling thread holds the mutex whose state word this is (a
// condvar knows its waiters' mutex by that word, at offset 0) through our
// lock, so that its unlock will be ours too: glibc's code records its owner
// in __owner as we do, but counts itself in __nusers, which we never touch.
inline bool held_by_caller(const RawMutex::Word& w) {
  auto* m = reinterpret_cast<pthread_mutex_t*>(const_cast<RawMutex::Word*>(&w));
  return RawMutex::is_locked(word(m)) && owner(m) == current_tid() &&
         std::atomic_ref<unsigned>(m->__data.__nusers).load(std::memory_order_relaxed) == 0;
}
// Relaxed: the lock's own acquire and release order it for the owner; a
// reader elsewhere (a debugger) wants a hint, not a synchronization.
inline void set_owner(pthread_mutex_t* m, pid_t tid) {
  std::atomic_ref<int>(m->__data.__owner).store(tid, std::memory_order_relaxed);
}

// The general paths: every kind, time limits, pass-through (mutex_ops.cpp).
int init(pthread_mutex_t* m, const pthread_mutexattr_t* attr);
int destroy(pthread_mutex_t* m);
int lock_general(pthread_mutex_t* m);
int trylock_general(pthread_mutex_t* m);
// `clock` is CLOCK_REALTIME for timedlock; clocklock validates its clock.
int clocklock(pthread_mutex_t* m, clockid_t clock, const timespec* abstime);
int unlock_general(pthread_mutex_t* m);

// Fast paths: a plain (normal or adaptive), unnamed mutex is one CAS each
// way, plus the owner store. Everything else, observe-only mode included,
// takes the general paths.
inline bool is_plain(int kind) { return kind == PTHREAD_MUTEX_NORMAL || kind == PTHREAD_MUTEX_ADAPTIVE_NP; }

inline int lock(pthread_mutex_t* m) {
  if (__builtin_expect(is_plain(kind(m)) && !observe_only(), 1)) {
    if (!(__libc_single_threaded && RawMutex::try_lock_single_threaded(word(m)))) RawMutex::lock(word(m));
    set_owner(m, current_tid());
    return 0;
  }
  return lock_general(m);
}

inline int trylock(pthread_mutex_t* m) {
  if (__builtin_expect(is_plain(kind(m)) && !observe_only(), 1)) {
    if (!RawMutex::try_lock(word(m))) return EBUSY;
    set_owner(m, current_tid());
    return 0;
  }
  return trylock_general(m);
}

inline int unlock(pthread_mutex_t* m) {
  if (__builtin_expect(is_plain(kind(m)) && !observe_only(), 1)) {
    set_owner(m, 0);
    if (!(__libc_single_threaded && RawMutex::try_unlock_single_threaded(word(m)))) RawMutex::unlock(word(m));
    return 0;
  }
  return unlock_general(m);
}

// For condition variables. A waiter gives up one level of ownership before it
// sleeps and takes it back when it wakes, as glibc's cond_wait does (it
// unlocks and relocks once): a recursive mutex locked more than once stays
// held during the wait, one level lower; any other is released.
struct Ownership {
  bool keeps_lock = false;  // only a recursion level was given up
};
// Checks that the caller may wait with `m` (EPERM if an errorcheck or
// recursive mutex is not the caller's) and gives up one level. Unless
// `keeps_lock` comes back set, the owner fields are cleared and the caller
// then releases the state word itself.
int give_up_ownership(pthread_mutex_t* m, int kind, Ownership* saved);
// After the state word is held again (or was kept): takes the level back.
void take_ownership(pthread_mutex_t* m, int kind, const Ownership& saved);

}  // namespace parklock::mutex_ops
