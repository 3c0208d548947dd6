// pshared_cond_bridge.h: a process-shared condvar waited on with one of our mutexes.
//
// A PTHREAD_PROCESS_SHARED condvar stays glibc's (other processes run glibc's
// algorithm on it), but the mutex a waiter holds may be an ordinary one, i.e.
// ours. glibc's cond_wait must not touch it: glibc's release and relock write
// glibc's lock-word encoding (0, then 2), which our state word reads as
// "unlocked" and "unlocked, threads parked" (two owners, lost wake-ups).
//
// So the waiter hands glibc a private glibc mutex of ours instead, a
// "bridge", taken before our mutex is released:
//
//   waiter                                  notifier (this process)
//   ------                                  --------
//   holds m (ours), sees the predicate
//   lock bridge
//   release m
//   glibc cond_wait(c, bridge)              lock bridge
//     [glibc releases bridge once queued]   glibc cond_signal(c)
//                                           unlock bridge
//   unlock bridge, take m back
//
// A notifier that changed the predicate under m can only take the bridge
// after the waiter is queued in glibc's condvar, so no wake-up is lost, as
// with glibc's own mutex. A notifier in another process does not take our
// bridge; it could not have held m (m is private to this process) either.
//
// Notifiers pay for the bridge only once a wait has used it: waiters set a
// process-wide flag before they release m, and a notifier that changed the
// predicate under m sees it.
#pragma once

#include <pthread.h>

#include "function_ref.h"
#include "parking_lot.h"

namespace parklock::pshared_cond_bridge {

// Waits on glibc's condvar `c` until notified or `deadline` (glibc's clock
// rules: the deadline's clock is used as pthread_cond_clockwait would).
// `release` lets go of the caller's mutex once the bridge is held;
// `reacquire` takes it back (also when the wait is cancelled, before the
// cancellation unwinds on). Returns glibc's result (0, ETIMEDOUT, EINVAL...).
int wait(pthread_cond_t* c, const Deadline& deadline, FunctionRef<void()> release,
         FunctionRef<void()> reacquire);

int signal(pthread_cond_t* c);
int broadcast(pthread_cond_t* c);

// For a fork child: a bridge held by a thread that did not survive is free.
void reset_after_fork();

}  // namespace parklock::pshared_cond_bridge
