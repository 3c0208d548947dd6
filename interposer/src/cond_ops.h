// cond_ops.h: pthread_cond_t semantics on top of RawCondvar.
//
// Layout (glibc's field names):
//
//   offset  field                 parklock
//   0       __wseq (8 bytes)      RawCondvar state word
//   36      __wrefs               bit 0: process-shared (glibc's bit; such a
//                                 condvar is glibc's), bit 1: the condattr clock
//                                 is CLOCK_MONOTONIC (glibc's bit too)
//   rest                          unused (0)
//
// PTHREAD_COND_INITIALIZER (all zero) is a CLOCK_REALTIME condvar, nobody
// waiting. The queue itself lives in the parking lot, keyed by the address.
#pragma once

#include <pthread.h>

#include "glibc_locks.h"
#include "lock_mode.h"
#include "mutex_ops.h"
#include "pshared_cond_bridge.h"
#include "raw_condvar.h"

namespace parklock::cond_ops {

inline constexpr unsigned kProcessSharedBit = 1;
inline constexpr unsigned kMonotonicClockBit = 2;

static_assert(sizeof(pthread_cond_t) == 48);
static_assert(offsetof(__pthread_cond_s, __wseq) == 0);
static_assert(offsetof(__pthread_cond_s, __wrefs) == 36);

inline RawCondvar::Word& word(pthread_cond_t* c) { return c->__data.__wseq.__value64; }
inline unsigned flags(pthread_cond_t* c) {
  return std::atomic_ref<unsigned>(c->__data.__wrefs).load(std::memory_order_relaxed);
}
inline bool is_ours(pthread_cond_t* c) { return !(flags(c) & kProcessSharedBit); }

int init(pthread_cond_t* c, const pthread_condattr_t* attr);
int destroy(pthread_cond_t* c);
int wait(pthread_cond_t* c, pthread_mutex_t* m);
int timedwait(pthread_cond_t* c, pthread_mutex_t* m, const timespec* abstime);
int clockwait(pthread_cond_t* c, pthread_mutex_t* m, clockid_t clock, const timespec* abstime);

inline int signal(pthread_cond_t* c) {
  if (__builtin_expect(!is_ours(c) || observe_only(), 0))
    return observe_only() ? glibc::cond_signal(c) : pshared_cond_bridge::signal(c);
  RawCondvar::notify_one(word(c), c);
  return 0;
}

inline int broadcast(pthread_cond_t* c) {
  if (__builtin_expect(!is_ours(c) || observe_only(), 0))
    return observe_only() ? glibc::cond_broadcast(c) : pshared_cond_bridge::broadcast(c);
  RawCondvar::notify_all(word(c), c, [](const RawMutex::Word& mutex) {
    return mutex_ops::held_by_caller(mutex);
  });
  return 0;
}

}  // namespace parklock::cond_ops
