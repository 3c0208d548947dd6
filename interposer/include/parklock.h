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
 * The name is copied (up to 47 bytes); a later call replaces it, NULL clears
 * it, and destroying the lock clears it too. Use PARKLOCK_SET_NAME rather
 * than calling these directly: it picks the typed setter when it can. */
void parklock_set_name(const void* lock, const char* name);
/* The same for a mutex or an rwlock, which then also counts every
 * acquisition (parklock_lock_acquisitions_total). Only named locks pay for
 * that: their lock calls leave the one-atomic fast path. */
void parklock_set_mutex_name(pthread_mutex_t* mutex, const char* name);
void parklock_set_rwlock_name(pthread_rwlock_t* rwlock, const char* name);

/* Copies the name given to `lock` into `buf` (at most size - 1 bytes and a
 * NUL; 48 bytes hold any name) and returns 1, or returns 0 with `buf` empty
 * if it has none. */
int parklock_get_name(const void* lock, char* buf, size_t size);

/* Weak references: code that names its locks builds and runs without
 * libparklock (the call is then skipped) and picks the library up when it is
 * preloaded. */
#pragma weak parklock_set_name
#pragma weak parklock_set_mutex_name
#pragma weak parklock_set_rwlock_name

#ifdef __cplusplus
}  /* extern "C": the helpers below are C++ overloads */
/* PARKLOCK_SET_NAME(&lock, "name") takes a pthread_mutex_t*, pthread_rwlock_t*
 * or pthread_cond_t*, or a pointer to anything with a native_handle() that
 * returns one (std::mutex, std::shared_mutex, std::condition_variable, ...). */
namespace parklock_detail {
inline void set_native_name(pthread_mutex_t* m, const char* name) {
  if (parklock_set_mutex_name != 0) parklock_set_mutex_name(m, name);
}
inline void set_native_name(pthread_rwlock_t* rw, const char* name) {
  if (parklock_set_rwlock_name != 0) parklock_set_rwlock_name(rw, name);
}
inline void set_native_name(const void* lock, const char* name) {
  if (parklock_set_name != 0) parklock_set_name(lock, name);
}
template <typename Lock>
auto set_name(Lock* lock, const char* name, int) -> decltype(lock->native_handle(), void()) {
  set_native_name(lock->native_handle(), name);
}
template <typename Lock>
void set_name(Lock* lock, const char* name, long) {
  set_native_name(lock, name);
}
}  // namespace parklock_detail
#define PARKLOCK_SET_NAME(lock, name) ::parklock_detail::set_name((lock), (name), 0)
extern "C" {
#else
static inline void parklock_set_mutex_name_if_linked_(pthread_mutex_t* m, const char* name) {
  if (parklock_set_mutex_name != 0) parklock_set_mutex_name(m, name);
}
static inline void parklock_set_rwlock_name_if_linked_(pthread_rwlock_t* rw, const char* name) {
  if (parklock_set_rwlock_name != 0) parklock_set_rwlock_name(rw, name);
}
static inline void parklock_set_name_if_linked_(const void* lock, const char* name) {
  if (parklock_set_name != 0) parklock_set_name(lock, name);
}
#define PARKLOCK_SET_NAME(lock, name)                                         \
  _Generic((lock),                                                            \
      pthread_mutex_t*: parklock_set_mutex_name_if_linked_,                   \
      pthread_rwlock_t*: parklock_set_rwlock_name_if_linked_,                 \
      default: parklock_set_name_if_linked_)((lock), (name))
#endif

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
