// timespec_checks.h: argument checks shared by every timed entry point.
#pragma once

#include <time.h>

namespace parklock {

// glibc answers EINVAL for a tv_nsec outside [0, 1e9).
inline bool is_valid_timespec(const timespec* t) {
  return t->tv_nsec >= 0 && t->tv_nsec < 1000000000L;
}

// The clocks the *_clock* entry points accept (glibc accepts these two only).
inline bool is_supported_clock(clockid_t clock) {
  return clock == CLOCK_REALTIME || clock == CLOCK_MONOTONIC;
}

}  // namespace parklock
