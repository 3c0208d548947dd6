#include "observed_locks.h"

#include <cerrno>

#include "contention_probe.h"
#include "glibc_locks.h"
#include "lock_names.h"
#include "mutex_ops.h"

namespace parklock::observed {
namespace {

// `try_call` first; on EBUSY, `blocking_call` timed. Named locks count every
// acquisition, as under parklock's own algorithms: a mutex says so in its
// kind (glibc ignores that bit); an rwlock is looked up by address once any
// lock has a name.
template <typename Try, typename Block>
int timed(LockKind kind, const void* lock, bool maybe_named, Try try_call, Block blocking_call) {
  int r = try_call();
  if (r == EBUSY) {
    ContentionProbe probe(kind, lock);
    r = blocking_call();
    if (r == 0) probe.acquired();
  }
  if (r == 0 && maybe_named) lock_names::count_acquisition(lock, kind);
  return r;
}

}  // namespace

int mutex_lock(pthread_mutex_t* m) {
  return timed(LockKind::kMutex, m, mutex_ops::is_named(mutex_ops::kind(m)), [&] { return glibc::mutex_trylock(m); }, [&] { return glibc::mutex_lock(m); });
}

int mutex_clocklock(pthread_mutex_t* m, clockid_t clock, const timespec* abstime) {
  return timed(LockKind::kMutex, m, mutex_ops::is_named(mutex_ops::kind(m)), [&] { return glibc::mutex_trylock(m); },
               [&] { return glibc::mutex_clocklock(m, clock, abstime); });
}

int rwlock_rdlock(pthread_rwlock_t* rw) {
  return timed(LockKind::kRwlockRead, rw, lock_names::any_named(), [&] { return glibc::rwlock_tryrdlock(rw); },
               [&] { return glibc::rwlock_rdlock(rw); });
}

int rwlock_clockrdlock(pthread_rwlock_t* rw, clockid_t clock, const timespec* abstime) {
  return timed(LockKind::kRwlockRead, rw, lock_names::any_named(), [&] { return glibc::rwlock_tryrdlock(rw); },
               [&] { return glibc::rwlock_clockrdlock(rw, clock, abstime); });
}

int rwlock_wrlock(pthread_rwlock_t* rw) {
  return timed(LockKind::kRwlockWrite, rw, lock_names::any_named(), [&] { return glibc::rwlock_trywrlock(rw); },
               [&] { return glibc::rwlock_wrlock(rw); });
}

int rwlock_clockwrlock(pthread_rwlock_t* rw, clockid_t clock, const timespec* abstime) {
  return timed(LockKind::kRwlockWrite, rw, lock_names::any_named(), [&] { return glibc::rwlock_trywrlock(rw); },
               [&] { return glibc::rwlock_clockwrlock(rw, clock, abstime); });
}

}  // namespace parklock::observed
