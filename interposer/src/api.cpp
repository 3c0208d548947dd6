// The direct-call half of parklock.h: the same code the preloaded pthread
// names run, under names of our own, so that a program can call glibc's and
// ours side by side.
#include "parklock.h"

#include "cond_ops.h"
#include "mutex_ops.h"

#define PARKLOCK_API extern "C" __attribute__((visibility("default")))

#define PARKLOCK_STR_(x) #x
#define PARKLOCK_STR(x) PARKLOCK_STR_(x)

PARKLOCK_API const char* parklock_version(void) {
  return PARKLOCK_STR(PARKLOCK_VERSION_MAJOR) "." PARKLOCK_STR(PARKLOCK_VERSION_MINOR) "." PARKLOCK_STR(
      PARKLOCK_VERSION_PATCH);
}

using namespace parklock;

PARKLOCK_API int parklock_mutex_init(pthread_mutex_t* m, const pthread_mutexattr_t* attr) {
  return mutex_ops::init(m, attr);
}
PARKLOCK_API int parklock_mutex_destroy(pthread_mutex_t* m) { return mutex_ops::destroy(m); }
PARKLOCK_API int parklock_mutex_lock(pthread_mutex_t* m) { return mutex_ops::lock(m); }
PARKLOCK_API int parklock_mutex_trylock(pthread_mutex_t* m) { return mutex_ops::trylock(m); }
PARKLOCK_API int parklock_mutex_timedlock(pthread_mutex_t* m, const struct timespec* abstime) {
  return mutex_ops::clocklock(m, CLOCK_REALTIME, abstime);
}
PARKLOCK_API int parklock_mutex_clocklock(pthread_mutex_t* m, clockid_t clock,
                                          const struct timespec* abstime) {
  return mutex_ops::clocklock(m, clock, abstime);
}
PARKLOCK_API int parklock_mutex_unlock(pthread_mutex_t* m) { return mutex_ops::unlock(m); }

PARKLOCK_API int parklock_cond_init(pthread_cond_t* c, const pthread_condattr_t* attr) {
  return cond_ops::init(c, attr);
}
PARKLOCK_API int parklock_cond_destroy(pthread_cond_t* c) { return cond_ops::destroy(c); }
PARKLOCK_API int parklock_cond_wait(pthread_cond_t* c, pthread_mutex_t* m) {
  return cond_ops::wait(c, m);
}
PARKLOCK_API int parklock_cond_timedwait(pthread_cond_t* c, pthread_mutex_t* m,
                                         const struct timespec* abstime) {
  return cond_ops::timedwait(c, m, abstime);
}
PARKLOCK_API int parklock_cond_clockwait(pthread_cond_t* c, pthread_mutex_t* m, clockid_t clock,
                                         const struct timespec* abstime) {
  return cond_ops::clockwait(c, m, clock, abstime);
}
PARKLOCK_API int parklock_cond_signal(pthread_cond_t* c) { return cond_ops::signal(c); }
PARKLOCK_API int parklock_cond_broadcast(pthread_cond_t* c) { return cond_ops::broadcast(c); }
