// glibc's pthread_rwlock_* names, bound to rwlock_ops (see symbol_versions.h).
// The attribute calls (pthread_rwlockattr_*) are not taken over: they only
// fill the attribute object, which rwlock_ops::init reads through them.
// The old aliases __pthread_rwlock_{init,destroy,rdlock,tryrdlock,wrlock,
// trywrlock,unlock}@GLIBC_2.2.5 are ours too (PARKLOCK_ALSO_OLD_ALIAS).
#include <pthread.h>

#include "rwlock_ops.h"
#include "symbol_versions.h"

using namespace parklock;

PARKLOCK_EXPORT_2_2_5_AND_2_34(pthread_rwlock_init) PARKLOCK_ALSO_OLD_ALIAS(pthread_rwlock_init)
int shim_rwlock_init(pthread_rwlock_t* rw, const pthread_rwlockattr_t* attr) {
  return rwlock_ops::init(rw, attr);
}

PARKLOCK_EXPORT_2_2_5_AND_2_34(pthread_rwlock_destroy) PARKLOCK_ALSO_OLD_ALIAS(pthread_rwlock_destroy)
int shim_rwlock_destroy(pthread_rwlock_t* rw) { return rwlock_ops::destroy(rw); }

PARKLOCK_EXPORT_2_2_5_AND_2_34(pthread_rwlock_rdlock) PARKLOCK_ALSO_OLD_ALIAS(pthread_rwlock_rdlock)
int shim_rwlock_rdlock(pthread_rwlock_t* rw) { return rwlock_ops::rdlock(rw); }

PARKLOCK_EXPORT_2_2_5_AND_2_34(pthread_rwlock_tryrdlock) PARKLOCK_ALSO_OLD_ALIAS(pthread_rwlock_tryrdlock)
int shim_rwlock_tryrdlock(pthread_rwlock_t* rw) { return rwlock_ops::tryrdlock(rw); }

PARKLOCK_EXPORT_2_2_5_AND_2_34(pthread_rwlock_timedrdlock)
int shim_rwlock_timedrdlock(pthread_rwlock_t* rw, const timespec* abstime) {
  return rwlock_ops::timedrdlock(rw, abstime);
}

PARKLOCK_EXPORT_2_30_AND_2_34(pthread_rwlock_clockrdlock)
int shim_rwlock_clockrdlock(pthread_rwlock_t* rw, clockid_t clock, const timespec* abstime) {
  return rwlock_ops::clockrdlock(rw, clock, abstime);
}

PARKLOCK_EXPORT_2_2_5_AND_2_34(pthread_rwlock_wrlock) PARKLOCK_ALSO_OLD_ALIAS(pthread_rwlock_wrlock)
int shim_rwlock_wrlock(pthread_rwlock_t* rw) { return rwlock_ops::wrlock(rw); }

PARKLOCK_EXPORT_2_2_5_AND_2_34(pthread_rwlock_trywrlock) PARKLOCK_ALSO_OLD_ALIAS(pthread_rwlock_trywrlock)
int shim_rwlock_trywrlock(pthread_rwlock_t* rw) { return rwlock_ops::trywrlock(rw); }

PARKLOCK_EXPORT_2_2_5_AND_2_34(pthread_rwlock_timedwrlock)
int shim_rwlock_timedwrlock(pthread_rwlock_t* rw, const timespec* abstime) {
  return rwlock_ops::timedwrlock(rw, abstime);
}

PARKLOCK_EXPORT_2_30_AND_2_34(pthread_rwlock_clockwrlock)
int shim_rwlock_clockwrlock(pthread_rwlock_t* rw, clockid_t clock, const timespec* abstime) {
  return rwlock_ops::clockwrlock(rw, clock, abstime);
}

PARKLOCK_EXPORT_2_2_5_AND_2_34(pthread_rwlock_unlock) PARKLOCK_ALSO_OLD_ALIAS(pthread_rwlock_unlock)
int shim_rwlock_unlock(pthread_rwlock_t* rw) { return rwlock_ops::unlock(rw); }
