// test_support.h: clocks, a hang watchdog, and child-process reaping.
//
// Sleeps in this suite are bounded delays (e.g. "hold the lock a while"),
// never synchronization: every handoff the tests rely on is explicit.
#pragma once

#include <pthread.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "common/hang_guards.h"

namespace parklock_test {

// Whether a thread is blocked on the held mutex `m`: glibc's word for that
// is 2, ours sets kParked (1 | 8). Either way it is no longer "locked,
// nobody waiting" (1).
inline bool HasBlockedLocker(pthread_mutex_t* m) {
  return std::atomic_ref<int>(m->__data.__lock).load() > 1;
}

inline int64_t NowNs(clockid_t clock) {
  timespec t;
  clock_gettime(clock, &t);
  return int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec;
}

inline timespec ToTimespec(int64_t ns) {
  return timespec{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
}

inline int64_t ToNs(const timespec& t) { return int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec; }

// An absolute deadline `ns` nanoseconds from now on `clock`.
inline timespec DeadlineIn(clockid_t clock, int64_t ns) { return ToTimespec(NowNs(clock) + ns); }

inline constexpr int64_t kMs = 1'000'000;
inline constexpr int64_t kSec = 1'000'000'000;



inline std::string Describe(const ChildOutcome& o) {
  if (o.timed_out) return "child hung and was killed";
  if (o.exited) return "child exited with status " + std::to_string(o.status);
  return "child died from signal " + std::to_string(o.signal);
}

// Runs `f` on a new thread and returns its result (for "by another thread" cases).
inline int OnOtherThread(const std::function<int()>& f) {
  int result = -1;
  std::thread t([&] { result = f(); });
  t.join();
  return result;
}

// A deterministic per-thread random stream (xorshift64*).
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint64_t Next() {
    s_ ^= s_ >> 12;
    s_ ^= s_ << 25;
    s_ ^= s_ >> 27;
    return s_ * 0x2545F4914F6CDD1Dull;
  }
  uint32_t Below(uint32_t n) { return static_cast<uint32_t>(Next() % n); }

 private:
  uint64_t s_;
};

}  // namespace parklock_test
