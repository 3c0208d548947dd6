// The direct-call rwlock API of parklock.h: the same code as the preload's
// pthread_rwlock_* entry points, under names that do not replace glibc's.
#include "parklock.h"
#include "rwlock_ops.h"

namespace ops = parklock::rwlock_ops;

#define PARKLOCK_API extern "C" __attribute__((visibility("default")))

PARKLOCK_API int parklock_rwlock_init(pthread_rwlock_t* rw, const pthread_rwlockattr_t* attr) {
  return ops::init(rw, attr);
}
PARKLOCK_API int parklock_rwlock_destroy(pthread_rwlock_t* rw) { return ops::destroy(rw); }
PARKLOCK_API int parklock_rwlock_rdlock(pthread_rwlock_t* rw) { return ops::rdlock(rw); }
PARKLOCK_API int parklock_rwlock_tryrdlock(pthread_rwlock_t* rw) { return ops::tryrdlock(rw); }
PARKLOCK_API int parklock_rwlock_timedrdlock(pthread_rwlock_t* rw, const struct timespec* abstime) {
  return ops::timedrdlock(rw, abstime);
}
PARKLOCK_API int parklock_rwlock_clockrdlock(pthread_rwlock_t* rw, clockid_t clock,
                                             const struct timespec* abstime) {
  return ops::clockrdlock(rw, clock, abstime);
}
PARKLOCK_API int parklock_rwlock_wrlock(pthread_rwlock_t* rw) { return ops::wrlock(rw); }
PARKLOCK_API int parklock_rwlock_trywrlock(pthread_rwlock_t* rw) { return ops::trywrlock(rw); }
PARKLOCK_API int parklock_rwlock_timedwrlock(pthread_rwlock_t* rw, const struct timespec* abstime) {
  return ops::timedwrlock(rw, abstime);
}
PARKLOCK_API int parklock_rwlock_clockwrlock(pthread_rwlock_t* rw, clockid_t clock,
                                             const struct timespec* abstime) {
  return ops::clockwrlock(rw, clock, abstime);
}
PARKLOCK_API int parklock_rwlock_unlock(pthread_rwlock_t* rw) { return ops::unlock(rw); }
