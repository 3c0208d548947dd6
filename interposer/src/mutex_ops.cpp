#include "mutex_ops.h"

#include <cerrno>
#include <cstring>

#include "glibc_locks.h"
#include "lock_names.h"
#include "observed_locks.h"
#include "timespec_checks.h"

namespace parklock::mutex_ops {
namespace {

// What a lock attempt by the current owner of an errorcheck or recursive
// mutex returns, or -1 if the caller is not the owner.
int relock_by_owner(pthread_mutex_t* m, int kind, int busy_code) {
  if (!needs_owner(kind) || owner(m) != current_tid()) return -1;
  if ((kind & kTypeMask) == PTHREAD_MUTEX_ERRORCHECK) return busy_code;
  if (m->__data.__count + 1 == 0) return EAGAIN;  // glibc: the count would wrap
  ++m->__data.__count;
  return 0;
}

// A named mutex counts its acquisitions; `result` passes through.
int counted(pthread_mutex_t* m, int kind, int result) {
  if (result == 0 && is_named(kind)) lock_names::count_acquisition(m, LockKind::kMutex);
  return result;
}

void acquired(pthread_mutex_t* m, int kind) {
  set_owner(m, current_tid());
  if (needs_owner(kind)) m->__data.__count = 1;
}

}  // namespace

void mark_named(pthread_mutex_t* m) {
  std::atomic_ref<int> k(m->__data.__kind);
  int current = k.load(std::memory_order_relaxed);
  while (is_ours(current) && !(current & kNamedBit) &&
         !k.compare_exchange_weak(current, current | kNamedBit, std::memory_order_relaxed)) {
  }
}

int init(pthread_mutex_t* m, const pthread_mutexattr_t* attr) {
  if (observe_only()) return glibc::mutex_init(m, attr);
  int type = PTHREAD_MUTEX_NORMAL;
  if (attr) {
    int pshared = PTHREAD_PROCESS_PRIVATE, robust = PTHREAD_MUTEX_STALLED, protocol = PTHREAD_PRIO_NONE;
    pthread_mutexattr_getpshared(attr, &pshared);
    pthread_mutexattr_getrobust(attr, &robust);
    pthread_mutexattr_getprotocol(attr, &protocol);
    if (pshared != PTHREAD_PROCESS_PRIVATE || robust != PTHREAD_MUTEX_STALLED ||
        protocol != PTHREAD_PRIO_NONE)
      return glibc::mutex_init(m, attr);
    pthread_mutexattr_gettype(attr, &type);
  }
  std::memset(m, 0, sizeof(*m));
  m->__data.__kind = type & kTypeMask;
  return 0;
}

int destroy(pthread_mutex_t* m) {
  if (observe_only()) {
    lock_names::forget_on_destroy(m);
    return glibc::mutex_destroy(m);
  }
  int k = kind(m);
  if (!is_ours(k)) return glibc::mutex_destroy(m);
  if (RawMutex::is_locked(word(m))) return EBUSY;
  lock_names::forget_on_destroy(m);
  // As glibc does: a destroyed mutex answers EINVAL until initialized again
  // (the -1 routes it to glibc, which says so).
  std::atomic_ref<int>(m->__data.__kind).store(-1, std::memory_order_relaxed);
  return 0;
}

int lock_general(pthread_mutex_t* m) {
  if (observe_only()) return observed::mutex_lock(m);
  int k = kind(m);
  if (!is_ours(k)) return glibc::mutex_lock(m);
  if (int r = relock_by_owner(m, k, EDEADLK); r >= 0) return counted(m, k, r);
  RawMutex::lock(word(m));
  acquired(m, k);
  return counted(m, k, 0);
}

int trylock_general(pthread_mutex_t* m) {
  int k = kind(m);
  if (observe_only()) return counted(m, k, glibc::mutex_trylock(m));
  if (!is_ours(k)) return glibc::mutex_trylock(m);
  if (int r = relock_by_owner(m, k, EBUSY); r >= 0) return counted(m, k, r);
  if (!RawMutex::try_lock(word(m))) return EBUSY;
  acquired(m, k);
  return counted(m, k, 0);
}

int clocklock(pthread_mutex_t* m, clockid_t clock, const timespec* abstime) {
  if (observe_only()) return observed::mutex_clocklock(m, clock, abstime);
  int k = kind(m);
  if (!is_ours(k)) return glibc::mutex_clocklock(m, clock, abstime);
  if (!is_supported_clock(clock)) return EINVAL;
  if (int r = relock_by_owner(m, k, EDEADLK); r >= 0) return counted(m, k, r);
  // glibc checks the time only when it has to wait.
  if (!RawMutex::try_lock(word(m))) {
    // glibc's order: a deadline before the epoch has passed, whatever its nanoseconds.
    if (abstime->tv_sec < 0) return ETIMEDOUT;
    if (!is_valid_timespec(abstime)) return EINVAL;
    if (!RawMutex::lock_until(word(m), Deadline::on(clock, abstime))) return ETIMEDOUT;
  }
  acquired(m, k);
  return counted(m, k, 0);
}

int unlock_general(pthread_mutex_t* m) {
  if (observe_only()) return glibc::mutex_unlock(m);
  int k = kind(m);
  if (!is_ours(k)) return glibc::mutex_unlock(m);
  if (needs_owner(k)) {
    if (owner(m) != current_tid()) return EPERM;
    if ((k & kTypeMask) == PTHREAD_MUTEX_RECURSIVE && --m->__data.__count != 0) return 0;
    m->__data.__count = 0;
  }
  set_owner(m, 0);
  RawMutex::unlock(word(m));
  return 0;
}

int give_up_ownership(pthread_mutex_t* m, int kind, Ownership* saved) {
  if (!needs_owner(kind)) {
    set_owner(m, 0);
    return 0;
  }
  if (owner(m) != current_tid()) return EPERM;
  if ((kind & kTypeMask) == PTHREAD_MUTEX_RECURSIVE && m->__data.__count > 1) {
    --m->__data.__count;
    saved->keeps_lock = true;
    return 0;
  }
  m->__data.__count = 0;
  set_owner(m, 0);
  return 0;
}

void take_ownership(pthread_mutex_t* m, int kind, const Ownership& saved) {
  if (saved.keeps_lock) {
    ++m->__data.__count;
    return;
  }
  set_owner(m, current_tid());
  if (needs_owner(kind)) m->__data.__count = 1;
}

}  // namespace parklock::mutex_ops
