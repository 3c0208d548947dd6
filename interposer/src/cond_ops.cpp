#include "cond_ops.h"

#include <linux/futex.h>

#include <cerrno>
#include <cstring>

#include "lock_names.h"
#include "mutex_ops.h"
#include "pshared_cond_bridge.h"
#include "thread_id.h"
#include "timespec_checks.h"

namespace parklock::cond_ops {
namespace {

clockid_t attr_clock(pthread_cond_t* c) {
  return (flags(c) & kMonotonicClockBit) ? CLOCK_MONOTONIC : CLOCK_REALTIME;
}

// glibc's cond_wait answers EPERM when it cannot release the mutex, with
// the checks of its unlock: we must know before we queue ourselves, since the
// release happens after. A robust or priority-inheritance mutex is the
// caller's if __lock holds its tid (as the kernel sees it; the __owner of a
// robust mutex that its dead owner left inconsistent holds a marker, and
// glibc's unlock then makes it unrecoverable); errorcheck and recursive ones
// otherwise by __owner; the rest are not checked.
bool may_release_glibc_mutex(pthread_mutex_t* m, int kind) {
  if (kind & (mutex_ops::kRobustBit | mutex_ops::kPrioInheritBit)) {
    int lock = std::atomic_ref<int>(m->__data.__lock).load(std::memory_order_relaxed);
    return (lock & FUTEX_TID_MASK) == current_tid();
  }
  if (!mutex_ops::needs_owner(kind)) return true;
  int owner = std::atomic_ref<int>(m->__data.__owner).load(std::memory_order_relaxed);
  return owner == current_tid();
}

// One of our mutexes, as a waiter lets go of it and takes it back. A
// recursive one held more than once stays held (give_up_ownership): then
// nothing is released, and broadcast must not requeue onto it.
class HeldMutex {
 public:
  // `condvar` labels a contended reacquisition (RawMutex::lock_after_wait).
  HeldMutex(pthread_mutex_t* m, int kind, const pthread_cond_t* condvar)
      : m_(m), kind_(kind), condvar_(condvar) {}

  // EPERM if the caller may not wait with it (see give_up_ownership).
  int give_up() { return mutex_ops::give_up_ownership(m_, kind_, &saved_); }
  // The state word a broadcast may requeue waiters onto, or nullptr.
  RawMutex::Word* raw() { return saved_.keeps_lock ? nullptr : &mutex_ops::word(m_); }
  void release() {
    if (!saved_.keeps_lock) RawMutex::unlock(mutex_ops::word(m_));
  }
  // `already_held`: a requeued waiter was handed the lock.
  void reacquire(bool already_held) {
    if (!saved_.keeps_lock && !already_held) RawMutex::lock_after_wait(mutex_ops::word(m_), condvar_);
    mutex_ops::take_ownership(m_, kind_, saved_);
  }

 private:
  pthread_mutex_t* m_;
  int kind_;
  const pthread_cond_t* condvar_;
  mutex_ops::Ownership saved_;
};

// `deadline.at` is nullptr for an untimed wait.
int wait_until(pthread_cond_t* c, pthread_mutex_t* m, const Deadline& deadline) {
  int kind = mutex_ops::kind(m);
  if (mutex_ops::is_ours(kind)) {
    HeldMutex held(m, kind, c);
    if (int r = held.give_up()) return r;
    bool notified = RawCondvar::wait(
        word(c), c,
        {held.raw(), [&] { held.release(); }, [&](bool already_held) { held.reacquire(already_held); }},
        deadline);
    return notified ? 0 : ETIMEDOUT;
  }
  if (kind < 0) return EINVAL;
  if (!may_release_glibc_mutex(m, kind)) return EPERM;
  // A robust mutex may come back EOWNERDEAD or ENOTRECOVERABLE: glibc's
  // cond_wait reports that too.
  int relock = 0;
  bool notified = RawCondvar::wait(word(c), c,
                                   {nullptr, [&] { glibc::mutex_unlock(m); },
                                    [&](bool) { relock = glibc::mutex_lock(m); }},
                                   deadline);
  if (relock != 0) return relock;
  return notified ? 0 : ETIMEDOUT;
}

// A process-shared condvar is glibc's. With a mutex of glibc's too, glibc
// serves the whole wait; with one of ours, the wait goes through a bridge
// (pshared_cond_bridge.h). The arguments were checked as glibc checks them.
int wait_on_glibc_condvar(pthread_cond_t* c, pthread_mutex_t* m, const Deadline& deadline) {
  int kind = mutex_ops::kind(m);
  if (!mutex_ops::is_ours(kind)) {
    return deadline.is_forever() ? glibc::cond_wait(c, m)
                                 : glibc::cond_clockwait(c, m, deadline.clock, deadline.at);
  }
  HeldMutex held(m, kind, c);
  if (int r = held.give_up()) return r;
  return pshared_cond_bridge::wait(c, deadline, [&] { held.release(); }, [&] { held.reacquire(false); });
}

}  // namespace

int init(pthread_cond_t* c, const pthread_condattr_t* attr) {
  if (observe_only()) return glibc::cond_init(c, attr);
  int pshared = PTHREAD_PROCESS_PRIVATE;
  clockid_t clock = CLOCK_REALTIME;
  if (attr) {
    pthread_condattr_getpshared(attr, &pshared);
    pthread_condattr_getclock(attr, &clock);
    if (pshared != PTHREAD_PROCESS_PRIVATE) return glibc::cond_init(c, attr);
  }
  std::memset(c, 0, sizeof(*c));
  if (clock == CLOCK_MONOTONIC) c->__data.__wrefs = kMonotonicClockBit;
  return 0;
}

int destroy(pthread_cond_t* c) {
  lock_names::forget_on_destroy(c);
  if (!is_ours(c) || observe_only()) return glibc::cond_destroy(c);
  // Nothing else to release: woken waiters never touch the condvar again, and
  // POSIX leaves destroying one with waiters still blocked undefined.
  return 0;
}

// Observe-only mode: glibc's condvar and mutex code, untimed (its wait for
// the mutex after a wake-up happens inside glibc).
int wait(pthread_cond_t* c, pthread_mutex_t* m) {
  if (observe_only()) return glibc::cond_wait(c, m);
  if (!is_ours(c)) return wait_on_glibc_condvar(c, m, Deadline::forever());
  return wait_until(c, m, Deadline::forever());
}

int timedwait(pthread_cond_t* c, pthread_mutex_t* m, const timespec* abstime) {
  if (!is_valid_timespec(abstime)) return EINVAL;
  // The condattr clock bit is glibc's own, for its condvars too.
  Deadline deadline = Deadline::on(attr_clock(c), abstime);
  if (observe_only()) return glibc::cond_clockwait(c, m, deadline.clock, abstime);
  if (!is_ours(c)) return wait_on_glibc_condvar(c, m, deadline);
  return wait_until(c, m, deadline);
}

int clockwait(pthread_cond_t* c, pthread_mutex_t* m, clockid_t clock, const timespec* abstime) {
  if (observe_only()) return glibc::cond_clockwait(c, m, clock, abstime);
  if (!is_supported_clock(clock) || !is_valid_timespec(abstime)) return EINVAL;
  Deadline deadline = Deadline::on(clock, abstime);
  if (!is_ours(c)) return wait_on_glibc_condvar(c, m, deadline);
  return wait_until(c, m, deadline);
}

}  // namespace parklock::cond_ops
