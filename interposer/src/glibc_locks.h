// glibc_locks.h: glibc's own lock functions, for the objects we pass through.
//
// Process-shared, robust, priority-inheritance and priority-protect mutexes,
// and process-shared rwlocks and condition variables, must keep glibc's
// algorithms (their state is read by other processes, or by the kernel).
// The shim hands those to the functions below, found with dlsym(RTLD_NEXT)
// at load time (never later under the dynamic loader's lock, see
// glibc_locks.cpp). A symbol that cannot be resolved aborts, at its first
// use, with a one-line message: there is no correct way to serve a shared
// lock without it.
#pragma once

#include <pthread.h>
#include <threads.h>
#include <time.h>
#include <unistd.h>

namespace parklock::glibc {

int mutex_init(pthread_mutex_t* m, const pthread_mutexattr_t* attr);
int mutex_destroy(pthread_mutex_t* m);
int mutex_lock(pthread_mutex_t* m);
int mutex_trylock(pthread_mutex_t* m);
// Also serves pthread_mutex_timedlock, as clocklock on CLOCK_REALTIME.
int mutex_clocklock(pthread_mutex_t* m, clockid_t clock, const timespec* abstime);
int mutex_unlock(pthread_mutex_t* m);

int cond_init(pthread_cond_t* c, const pthread_condattr_t* attr);
int cond_destroy(pthread_cond_t* c);
int cond_wait(pthread_cond_t* c, pthread_mutex_t* m);
// Also serves pthread_cond_timedwait, on the condattr clock.
int cond_clockwait(pthread_cond_t* c, pthread_mutex_t* m, clockid_t clock,
                   const timespec* abstime);
int cond_signal(pthread_cond_t* c);
int cond_broadcast(pthread_cond_t* c);

int rwlock_init(pthread_rwlock_t* rw, const pthread_rwlockattr_t* attr);
int rwlock_destroy(pthread_rwlock_t* rw);
int rwlock_rdlock(pthread_rwlock_t* rw);
int rwlock_tryrdlock(pthread_rwlock_t* rw);
int rwlock_timedrdlock(pthread_rwlock_t* rw, const timespec* abstime);
int rwlock_clockrdlock(pthread_rwlock_t* rw, clockid_t clock, const timespec* abstime);
int rwlock_wrlock(pthread_rwlock_t* rw);
int rwlock_trywrlock(pthread_rwlock_t* rw);
int rwlock_timedwrlock(pthread_rwlock_t* rw, const timespec* abstime);
int rwlock_clockwrlock(pthread_rwlock_t* rw, clockid_t clock, const timespec* abstime);
int rwlock_unlock(pthread_rwlock_t* rw);

// Process calls the preload takes over too (fork_shim.cpp).
int register_atfork(void (*prepare)(), void (*parent)(), void (*child)(), void* dso_handle);
pid_t fork_without_handlers();  // _Fork

}  // namespace parklock::glibc
