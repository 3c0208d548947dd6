// thread_id.h: the caller's kernel thread id, cached.
//
// Errorcheck and recursive mutexes record their owner as glibc does, in
// __owner, as a kernel tid. gettid() is a syscall, so the id is cached in
// initial-exec TLS; a fork() child gets a new tid, so the cache is cleared
// there (thread_id.cpp registers the handler).
#pragma once

#include <sys/types.h>
#include <unistd.h>

namespace parklock {

inline thread_local pid_t t_cached_tid = 0;

inline pid_t current_tid() {
  pid_t tid = t_cached_tid;
  if (__builtin_expect(tid == 0, 0)) t_cached_tid = tid = gettid();
  return tid;
}

}  // namespace parklock
