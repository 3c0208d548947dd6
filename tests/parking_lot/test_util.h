// test_util.h: clocks, a hang watchdog, queue probes and key generators for
// the parking-lot suite.
//
// Nothing here sleeps to synchronize: a test that must know "thread X is
// queued" asks the parking lot itself (QueuedOn walks the queue with
// unpark_filter and FilterOp::kSkip, which wakes nobody), polling under a
// time limit. Sleeps appear only where time must pass (a deadline, the
// fairness interval).
#pragma once

#include <sched.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/hang_guards.h"
#include "parking_lot.h"

namespace parking_lot_test {

using parklock_test::Watchdog;

using parklock::Deadline;
using parklock::FilterOp;
using parklock::ParkOutcome;
using parklock::ParkResult;
using parklock::ParkToken;
using parklock::RequeueOp;
using parklock::UnparkResult;
using parklock::UnparkToken;

inline constexpr int64_t kMs = 1'000'000;
inline constexpr int64_t kSec = 1'000'000'000;

inline int64_t NowNs(clockid_t clock = CLOCK_MONOTONIC) {
  timespec t;
  clock_gettime(clock, &t);
  return int64_t{t.tv_sec} * kSec + t.tv_nsec;
}

inline timespec ToTimespec(int64_t ns) {
  return timespec{static_cast<time_t>(ns / kSec), static_cast<long>(ns % kSec)};
}

// An absolute time `ns` from now on `clock` (negative: in the past).
inline timespec In(clockid_t clock, int64_t ns) { return ToTimespec(NowNs(clock) + ns); }

inline void SleepNs(int64_t ns) {
  timespec t = ToTimespec(ns);
  while (nanosleep(&t, &t) != 0) {
  }
}

// Polls `pred` until it holds or `limit_ns` passes; false on time-out. The
// poll yields, then naps 50 us, so that on two cores the threads it waits
// for get to run.
template <typename Pred>
bool WaitUntil(Pred pred, int64_t limit_ns = 20 * kSec) {
  const int64_t end = NowNs() + limit_ns;
  for (int spins = 0;; ++spins) {
    if (pred()) return true;
    if (NowNs() > end) return false;
    if (spins < 100) sched_yield();
    else SleepNs(50'000);
  }
}

// Spins on an atomic until it reaches `value` (yielding: two cores).
template <typename T>
void SpinUntilEq(const std::atomic<T>& a, T value) {
  while (a.load(std::memory_order_acquire) != value) sched_yield();
}

// How many threads are queued on `key`, without waking any of them.
inline size_t QueuedOn(const void* key) {
  size_t n = 0;
  parklock::unpark_filter(
      key,
      [&](ParkToken) {
        ++n;
        return FilterOp::kSkip;
      },
      [](UnparkResult) { return parklock::kDefaultUnparkToken; });
  return n;
}

// The park tokens queued on `key`, in FIFO order. The filter runs under a
// bucket lock and must not allocate: it fills a fixed array.
struct QueueSnapshot {
  std::array<ParkToken, 512> tokens{};
  size_t size = 0;
  std::vector<ParkToken> ToVector() const { return {tokens.begin(), tokens.begin() + size}; }
};
inline QueueSnapshot QueueOf(const void* key) {
  QueueSnapshot s;
  parklock::unpark_filter(
      key,
      [&](ParkToken t) {
        if (s.size < s.tokens.size()) s.tokens[s.size] = t;
        ++s.size;
        return FilterOp::kSkip;
      },
      [](UnparkResult) { return parklock::kDefaultUnparkToken; });
  return s;
}

// What one park call did, as seen by its callbacks and its return value.
struct ParkRecord {
  ParkOutcome outcome{ParkResult::kInvalid, 0};
  int before_sleep_calls = 0;
  int timed_out_calls = 0;
  const void* timed_out_key = nullptr;
  bool key_was_emptied = false;
};

// Parks on `key` unconditionally (validate always holds).
inline ParkRecord Park(const void* key, ParkToken park_token, const Deadline& deadline) {
  ParkRecord r;
  r.outcome = parklock::park(
      key, [] { return true; }, [&] { ++r.before_sleep_calls; },
      [&](const void* k, bool emptied) {
        ++r.timed_out_calls;
        r.timed_out_key = k;
        r.key_was_emptied = emptied;
      },
      park_token, deadline);
  return r;
}

inline UnparkResult UnparkOne(const void* key, UnparkToken token) {
  return parklock::unpark_one(key, [token](UnparkResult) { return token; });
}

// The parking lot's bucket hash (Fibonacci hashing, parking_lot.cpp): keys
// whose hashes agree in the top `bits` bits share a bucket in every table of
// up to 2^bits buckets. If the hash changes, these keys merely stop
// colliding; the tests that use them still check the same contracts.
inline uint64_t BucketHash(const void* key) {
  return uint64_t(reinterpret_cast<uintptr_t>(key)) * 0x9E3779B97F4A7C15ull;
}

// `count` distinct addresses inside a static arena that all share one bucket
// in every table of up to 2^14 buckets, i.e. while fewer than ~5400 threads
// are alive at once (3 buckets per thread); these tests keep a few hundred.
// The arena holds ~500 such addresses.
inline std::vector<const void*> CollidingKeys(size_t count) {
  constexpr int kBits = 14;
  static char arena[1 << 23];
  std::vector<const void*> keys;
  const uint64_t h0 = BucketHash(arena);
  for (size_t off = 0; off < sizeof(arena) && keys.size() < count; ++off) {
    if (((BucketHash(arena + off) ^ h0) >> (64 - kBits)) == 0) keys.push_back(arena + off);
  }
  return keys;
}

// Reaps `pid` within `limit_ns`, killing it if it hangs. Returns its exit
// status, or -signal if a signal ended it (SIGKILL: it hung).
inline int ReapChild(pid_t pid, int64_t limit_ns = 30 * kSec) {
  const parklock_test::ChildOutcome out =
      parklock_test::WaitForChild(pid, std::chrono::seconds(limit_ns / kSec));
  if (out.exited) return out.status;
  return -(out.timed_out ? SIGKILL : out.signal);
}

}  // namespace parking_lot_test
