// glibc's pthread_mutex_* names, bound to mutex_ops (see symbol_versions.h).
// pthread_mutex_consistent and the prioceiling calls are not taken over: they
// concern robust and priority-protect mutexes, which stay glibc's. The old
// aliases __pthread_mutex_{init,destroy,lock,trylock,unlock}@GLIBC_2.2.5 are
// ours too (PARKLOCK_ALSO_OLD_ALIAS).
#include <pthread.h>

#include "mutex_ops.h"
#include "symbol_versions.h"

using namespace parklock;

PARKLOCK_EXPORT_2_2_5(pthread_mutex_init) PARKLOCK_ALSO_OLD_ALIAS(pthread_mutex_init)
int shim_mutex_init(pthread_mutex_t* m, const pthread_mutexattr_t* attr) {
  return mutex_ops::init(m, attr);
}

PARKLOCK_EXPORT_2_2_5(pthread_mutex_destroy) PARKLOCK_ALSO_OLD_ALIAS(pthread_mutex_destroy)
int shim_mutex_destroy(pthread_mutex_t* m) { return mutex_ops::destroy(m); }

PARKLOCK_EXPORT_2_2_5(pthread_mutex_lock) PARKLOCK_ALSO_OLD_ALIAS(pthread_mutex_lock)
int shim_mutex_lock(pthread_mutex_t* m) { return mutex_ops::lock(m); }

PARKLOCK_EXPORT_2_2_5_AND_2_34(pthread_mutex_trylock) PARKLOCK_ALSO_OLD_ALIAS(pthread_mutex_trylock)
int shim_mutex_trylock(pthread_mutex_t* m) { return mutex_ops::trylock(m); }

PARKLOCK_EXPORT_2_2_5_AND_2_34(pthread_mutex_timedlock)
int shim_mutex_timedlock(pthread_mutex_t* m, const timespec* abstime) {
  return mutex_ops::clocklock(m, CLOCK_REALTIME, abstime);
}

PARKLOCK_EXPORT_2_30_AND_2_34(pthread_mutex_clocklock)
int shim_mutex_clocklock(pthread_mutex_t* m, clockid_t clock, const timespec* abstime) {
  return mutex_ops::clocklock(m, clock, abstime);
}

PARKLOCK_EXPORT_2_2_5(pthread_mutex_unlock) PARKLOCK_ALSO_OLD_ALIAS(pthread_mutex_unlock)
int shim_mutex_unlock(pthread_mutex_t* m) { return mutex_ops::unlock(m); }
