/*
 * parklock.h: the public C API of libparklock.
 *
 * Most programs never include this file: preloading libparklock.so is enough
 * to serve every pthread mutex, rwlock and condition variable with parking
 * locks. This header is for programs that want more:
 *
 *   - name their locks, so contention reports say "request_queue" instead of
 *     an address (PARKLOCK_SET_NAME works with or without the library);
 *   - call the parking algorithms directly, side by side with glibc's, on
 *     ordinary pthread objects (tests and benchmarks do this);
 *   - ask which version is loaded.
 *
 * Behaviour that differs from glibc's (see also README.md):
 *   - Mutexes barge: an unlock does not hand the lock to the longest waiter
 *     unless that waiter has been parked for about a millisecond (then it
 *     does, so no thread starves).
 *   - pthread_cond_broadcast wakes one waiter and moves the others onto the
 *     mutex's wait queue; they wake one by one as the mutex is released.
 *   - Waits may return spuriously, as POSIX allows; callers loop anyway.
 *
 * The direct-call functions take the same objects and return the same error
 * codes as their pthread_* namesakes.
 */
#ifndef PARKLOCK_H
#define PARKLOCK_H

#include <pthread.h>
#include <stddef.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PARKLOCK_VERSION_MAJOR 0
#define PARKLOCK_VERSION_MINOR 1
#define PARKLOCK_VERSION_PATCH 0

/* "MAJOR.MINOR.PATCH" of the loaded library. */
const char* parklock_version(void);

/* ---- Naming ------------------------------------------------------------ */

/* Gives `lock` (any mutex, rwlock or condvar address) a name for reports.
 * The name is copied (up to 47 bytes); a later call replaces it, NULL clears it.
 * Use PARKLOCK_SET_NAME rather than calling this directly. */
void parklock_set_name(const void* lock, const char* name);

/* Copies the name given to `lock` into `buf` (at most size - 1 bytes and a
 * NUL; 48 bytes hold any name) and returns 1, or returns 0 with `buf` empty
 * if it has none. Destroying a mutex, rwlock or condvar clears its name. */
int parklock_get_name(const void* lock, char* buf, size_t size);

/* Weak reference: code that names its locks builds and runs without
 * libparklock (the call is then skipped) and picks the library up when it is
 * preloaded. */
#pragma weak parklock_set_name

#define PARKLOCK_SET_NAME(lock, name)                \
  do {                                               \
    if (parklock_set_name != 0)                      \
      parklock_set_name((const void*)(lock), (name)); \
  } while (0)

/* ---- Direct calls: mutex ------------------------------------------------ */

int parklock_mutex_init(pthread_mutex_t* m, const pthread_mutexattr_t* attr);
int parklock_mutex_destroy(pthread_mutex_t* m);
int parklock_mutex_lock(pthread_mutex_t* m);
int parklock_mutex_trylock(pthread_mutex_t* m);
int parklock_mutex_timedlock(pthread_mutex_t* m, const struct timespec* abstime);
int parklock_mutex_clocklock(pthread_mutex_t* m, clockid_t clock,
                             const struct timespec* abstime);
int parklock_mutex_unlock(pthread_mutex_t* m);

/* ---- Direct calls: condition variable ---------------------------------- */

int parklock_cond_init(pthread_cond_t* c, const pthread_condattr_t* attr);
int parklock_cond_destroy(pthread_cond_t* c);
int parklock_cond_wait(pthread_cond_t* c, pthread_mutex_t* m);
int parklock_cond_timedwait(pthread_cond_t* c, pthread_mutex_t* m,
                            const struct timespec* abstime);
int parklock_cond_clockwait(pthread_cond_t* c, pthread_mutex_t* m,
                            clockid_t clock, const struct timespec* abstime);
int parklock_cond_signal(pthread_cond_t* c);
int parklock_cond_broadcast(pthread_cond_t* c);

/* ---- Direct calls: reader-writer lock ---------------------------------- */

int parklock_rwlock_init(pthread_rwlock_t* rw, const pthread_rwlockattr_t* attr);
int parklock_rwlock_destroy(pthread_rwlock_t* rw);
int parklock_rwlock_rdlock(pthread_rwlock_t* rw);
int parklock_rwlock_tryrdlock(pthread_rwlock_t* rw);
int parklock_rwlock_timedrdlock(pthread_rwlock_t* rw, const struct timespec* abstime);
int parklock_rwlock_clockrdlock(pthread_rwlock_t* rw, clockid_t clock,
                                const struct timespec* abstime);
int parklock_rwlock_wrlock(pthread_rwlock_t* rw);
int parklock_rwlock_trywrlock(pthread_rwlock_t* rw);
int parklock_rwlock_timedwrlock(pthread_rwlock_t* rw, const struct timespec* abstime);
int parklock_rwlock_clockwrlock(pthread_rwlock_t* rw, clockid_t clock,
                                const struct timespec* abstime);
int parklock_rwlock_unlock(pthread_rwlock_t* rw);

#ifdef __cplusplus
}
#endif

#endif /* PARKLOCK_H */
