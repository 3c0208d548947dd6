/* thread_state.h: waiting until another thread of this process sleeps.
 *
 * Some scenarios need threads blocked in a lock call before they go on (so
 * that they are queued when fork() runs, say). Neither glibc nor parklock
 * says so, but the kernel does: /proc/self/task/TID/stat shows state S. The
 * threads spin (state R) until they call the lock, so S means blocked in it. */
#pragma once

#include <sys/types.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static inline char thread_state(pid_t tid) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
  int fd = open(path, O_RDONLY);
  if (fd < 0) return '?';
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return '?';
  buf[n] = '\0';
  const char* paren = strrchr(buf, ')'); /* the name may hold spaces */
  return paren && paren[1] == ' ' ? paren[2] : '?';
}

static inline void sleep_ms(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&t, &t) != 0) {
  }
}

/* Waits up to 10 s for `tid` to sleep, then `settle_ms` more (so that it
 * has been asleep a while). Returns 1 if it was seen asleep. */
static inline int wait_until_sleeping(pid_t tid, long settle_ms) {
  for (int i = 0; i < 10000; ++i) {
    if (thread_state(tid) == 'S') {
      sleep_ms(settle_ms);
      return 1;
    }
    sleep_ms(1);
  }
  return 0;
}
