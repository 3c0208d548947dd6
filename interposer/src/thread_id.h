// thread_id.h: the caller's kernel thread id, cached.
//
// Errorcheck and recursive mutexes (and rwlock writers) record their owner
// as glibc does, as a kernel tid. gettid() is a syscall, so the id is cached
// in initial-exec TLS; a fork() child gets a new tid, so fork_reset.cpp clears
// the cache there (forget_tid).
#pragma once

#include <sys/types.h>

namespace parklock {

inline thread_local pid_t t_cached_tid = 0;

// The cold path: asks the kernel and caches the answer.
pid_t fetch_tid();

// For a fork() or _Fork() child: its only thread has a new tid.
inline void forget_tid() { t_cached_tid = 0; }

inline pid_t current_tid() {
  pid_t tid = t_cached_tid;
  return __builtin_expect(tid != 0, 1) ? tid : fetch_tid();
}

}  // namespace parklock
