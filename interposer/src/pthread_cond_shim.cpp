// glibc's pthread_cond_* names, both the 2.2.5 and 2.3.2 versions, bound to
// cond_ops (see symbol_versions.h).
#include <pthread.h>

#include "cond_ops.h"
#include "symbol_versions.h"

using namespace parklock;

PARKLOCK_EXPORT_2_2_5_AND_2_3_2(pthread_cond_init)
int shim_cond_init(pthread_cond_t* c, const pthread_condattr_t* attr) { return cond_ops::init(c, attr); }

PARKLOCK_EXPORT_2_2_5_AND_2_3_2(pthread_cond_destroy)
int shim_cond_destroy(pthread_cond_t* c) { return cond_ops::destroy(c); }

PARKLOCK_EXPORT_2_2_5_AND_2_3_2(pthread_cond_wait)
int shim_cond_wait(pthread_cond_t* c, pthread_mutex_t* m) { return cond_ops::wait(c, m); }

PARKLOCK_EXPORT_2_2_5_AND_2_3_2(pthread_cond_timedwait)
int shim_cond_timedwait(pthread_cond_t* c, pthread_mutex_t* m, const timespec* abstime) {
  return cond_ops::timedwait(c, m, abstime);
}

PARKLOCK_EXPORT_2_30_AND_2_34(pthread_cond_clockwait)
int shim_cond_clockwait(pthread_cond_t* c, pthread_mutex_t* m, clockid_t clock,
                        const timespec* abstime) {
  return cond_ops::clockwait(c, m, clock, abstime);
}

PARKLOCK_EXPORT_2_2_5_AND_2_3_2(pthread_cond_signal)
int shim_cond_signal(pthread_cond_t* c) { return cond_ops::signal(c); }

PARKLOCK_EXPORT_2_2_5_AND_2_3_2(pthread_cond_broadcast)
int shim_cond_broadcast(pthread_cond_t* c) { return cond_ops::broadcast(c); }
