// observed_locks.h: glibc's blocking lock calls, timed for the recorder.
//
// Observe-only mode (lock_mode.h) runs every lock through glibc. A blocking
// call first tries; only when that fails is the wait timed, with a stack
// taken, and recorded as contention of its call-site, as parklock's own slow
// paths do. What glibc's algorithms keep to themselves is not recorded: the
// hold time of contended acquisitions, the holder that made others wait, and
// a condvar waiter's wait for its mutex.
#pragma once

#include <pthread.h>

namespace parklock::observed {

int mutex_lock(pthread_mutex_t* m);
int mutex_clocklock(pthread_mutex_t* m, clockid_t clock, const timespec* abstime);
int rwlock_rdlock(pthread_rwlock_t* rw);
int rwlock_clockrdlock(pthread_rwlock_t* rw, clockid_t clock, const timespec* abstime);
int rwlock_wrlock(pthread_rwlock_t* rw);
int rwlock_clockwrlock(pthread_rwlock_t* rw, clockid_t clock, const timespec* abstime);

}  // namespace parklock::observed
