// rwlock_api_table.h: glibc's rwlock and parklock's side by side, so that
// every test states its expectation once and runs it against both.
#pragma once

#include <gtest/gtest.h>
#include <pthread.h>
#include <time.h>

#include <string>

#include "parklock.h"

struct RwApi {
  const char* name;
  int (*init)(pthread_rwlock_t*, const pthread_rwlockattr_t*);
  int (*destroy)(pthread_rwlock_t*);
  int (*rdlock)(pthread_rwlock_t*);
  int (*tryrdlock)(pthread_rwlock_t*);
  int (*timedrdlock)(pthread_rwlock_t*, const timespec*);
  int (*clockrdlock)(pthread_rwlock_t*, clockid_t, const timespec*);
  int (*wrlock)(pthread_rwlock_t*);
  int (*trywrlock)(pthread_rwlock_t*);
  int (*timedwrlock)(pthread_rwlock_t*, const timespec*);
  int (*clockwrlock)(pthread_rwlock_t*, clockid_t, const timespec*);
  int (*unlock)(pthread_rwlock_t*);
};

// This test binary does not preload the shim: pthread_rwlock_* are glibc's.
inline const RwApi kGlibcRw = {
    "glibc",
    pthread_rwlock_init,
    pthread_rwlock_destroy,
    pthread_rwlock_rdlock,
    pthread_rwlock_tryrdlock,
    pthread_rwlock_timedrdlock,
    pthread_rwlock_clockrdlock,
    pthread_rwlock_wrlock,
    pthread_rwlock_trywrlock,
    pthread_rwlock_timedwrlock,
    pthread_rwlock_clockwrlock,
    pthread_rwlock_unlock,
};

inline const RwApi kParklockRw = {
    "parklock",
    parklock_rwlock_init,
    parklock_rwlock_destroy,
    parklock_rwlock_rdlock,
    parklock_rwlock_tryrdlock,
    parklock_rwlock_timedrdlock,
    parklock_rwlock_clockrdlock,
    parklock_rwlock_wrlock,
    parklock_rwlock_trywrlock,
    parklock_rwlock_timedwrlock,
    parklock_rwlock_clockwrlock,
    parklock_rwlock_unlock,
};

class RwBoth : public ::testing::TestWithParam<const RwApi*> {
 protected:
  const RwApi& api() const { return *GetParam(); }
};

#define INSTANTIATE_RW_BOTH(Suite)                                                   \
  INSTANTIATE_TEST_SUITE_P(Impl, Suite, ::testing::Values(&kGlibcRw, &kParklockRw), \
                           [](const auto& info) { return std::string(info.param->name); })

// `ns` nanoseconds from now on `clock` (negative: in the past).
inline timespec deadline_in_ns(clockid_t clock, long long ns) {
  timespec t;
  clock_gettime(clock, &t);
  long long at = (long long)t.tv_sec * 1000000000LL + t.tv_nsec + ns;
  t.tv_sec = at / 1000000000LL;
  t.tv_nsec = at % 1000000000LL;
  return t;
}

inline timespec deadline_in_ms(clockid_t clock, long ms) { return deadline_in_ns(clock, ms * 1000000LL); }

inline double elapsed_ms_since(const timespec& start) {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (now.tv_sec - start.tv_sec) * 1e3 + (now.tv_nsec - start.tv_nsec) / 1e6;
}

inline timespec monotonic_now() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t;
}
