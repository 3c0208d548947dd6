// futex.h: the raw futex(2) calls, private to this process.
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <ctime>

namespace parklock::futex {

static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t));

inline uint32_t* word(std::atomic<uint32_t>& a) { return reinterpret_cast<uint32_t*>(&a); }

// Sleeps while *addr == expected, until woken or until the absolute `at` on
// `clock` (nullptr: no limit). Returns 0 or an errno (EAGAIN, EINTR, ETIMEDOUT).
inline int wait(std::atomic<uint32_t>& addr, uint32_t expected, clockid_t clock,
                const timespec* at) {
  int op = FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG;
  if (clock == CLOCK_REALTIME) op |= FUTEX_CLOCK_REALTIME;
  // The caller's errno survives: a lock wait may run in a signal handler,
  // and its time-outs (the periodic re-checks) are no error of the caller's.
  const int saved = errno;
  long r = syscall(SYS_futex, word(addr), op, expected, at, nullptr, FUTEX_BITSET_MATCH_ANY);
  const int err = r == 0 ? 0 : errno;
  errno = saved;
  return err;
}

inline void wake_private(void* addr, int count) {
  const int saved = errno;
  syscall(SYS_futex, addr, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, count, nullptr, nullptr, 0);
  errno = saved;
}
inline void wake(std::atomic<uint32_t>& addr, int count) { wake_private(word(addr), count); }

}  // namespace parklock::futex
