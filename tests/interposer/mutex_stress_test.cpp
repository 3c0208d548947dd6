// Mutex stress: many threads (more than the cores, so holders get preempted
// and waiters park), mixed lock / trylock / timedlock / clocklock, exact
// counts, and afterwards every mutex must be back in its initial state.
//
// Threads start together behind a latch, and now and then a holder yields
// its core inside the critical section: without that, on two cores each
// thread would run its whole loop within one time slice and never contend.
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <latch>
#include <memory>
#include <thread>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "lock_api.h"
#include "test_support.h"

namespace parklock_test {
namespace {

// glibc's adaptive mutex keeps a running spin estimate in __spins (and
// __elision next to it); those bytes may legitimately differ after use.
constexpr size_t kStatsBegin = offsetof(pthread_mutex_t, __data.__spins);
constexpr size_t kStatsEnd = kStatsBegin + 2 * sizeof(short);
static_assert(kStatsBegin == 20 && kStatsEnd == 24, "glibc x86_64 pthread_mutex_t layout");

// True when `m` holds the same bytes as `initial` outside the statistics.
bool SameStateBytes(const pthread_mutex_t& m, const pthread_mutex_t& initial) {
  const auto* a = reinterpret_cast<const unsigned char*>(&m);
  const auto* b = reinterpret_cast<const unsigned char*>(&initial);
  return memcmp(a, b, kStatsBegin) == 0 &&
         memcmp(a + kStatsEnd, b + kStatsEnd, sizeof(pthread_mutex_t) - kStatsEnd) == 0;
}

// After a stress run: free (another thread can take it), unowned (errorcheck
// and recursive say EPERM to a stray unlock) and byte-identical to its state
// right after init.
void ExpectBackToInitialState(const LockApi& api, pthread_mutex_t* m, Kind kind,
                              const pthread_mutex_t& initial, size_t index) {
  EXPECT_TRUE(SameStateBytes(*m, initial)) << "mutex " << index << " state bytes changed";
  if (kind == Kind::kRecursive || kind == Kind::kErrorcheck) {
    EXPECT_EQ(api.mutex_unlock(m), EPERM) << "mutex " << index;
  }
  EXPECT_EQ(api.mutex_trylock(m), 0) << "mutex " << index;
  EXPECT_EQ(api.mutex_unlock(m), 0) << "mutex " << index;
}

// Per-thread tallies, padded so threads do not share their lines.
struct alignas(64) ThreadTally {
  long acquired = 0;       // every successful acquisition (recursive ones too)
  long busy_or_timeout = 0;
  long wrong_results = 0;  // return codes glibc would never give here
  long exclusion_violations = 0;
};

// Acquires `m` with the operation `op` picks; returns the call's result.
int Acquire(const LockApi& api, pthread_mutex_t* m, uint32_t op, Rng& rng) {
  switch (op) {
    case 0: return api.mutex_lock(m);
    case 1: return api.mutex_trylock(m);
    case 2: {
      timespec at = DeadlineIn(CLOCK_REALTIME, rng.Below(200) * 1000);
      return api.mutex_timedlock(m, &at);
    }
    default: {
      const clockid_t clock = rng.Below(2) ? CLOCK_MONOTONIC : CLOCK_REALTIME;
      timespec at = DeadlineIn(clock, rng.Below(200) * 1000);
      return api.mutex_clocklock(m, clock, &at);
    }
  }
}

bool IsExpectedFailure(uint32_t op, int rc) {
  return (op == 1 && rc == EBUSY) || (op >= 2 && rc == ETIMEDOUT);
}

// A few hot mutexes, each with a plain counter and an "inside" marker.
struct HotLock {
  pthread_mutex_t m;
  long counter = 0;  // guarded by m
  int inside = -1;   // guarded by m: the thread in the critical section
};

class MutexStress : public ::testing::TestWithParam<std::tuple<const LockApi*, Kind>> {
 protected:
  const LockApi& api() const { return *std::get<0>(GetParam()); }
  Kind kind() const { return std::get<1>(GetParam()); }
};

TEST_P(MutexStress, MixedOperationsOnFewMutexes) {
  constexpr int kThreads = 12;
  constexpr int kLocks = 3;
  constexpr int kOpsPerThread = 60000;
  std::array<HotLock, kLocks> locks;
  std::array<pthread_mutex_t, kLocks> initial;
  for (int i = 0; i < kLocks; ++i) {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PthreadType(kind()));
    ASSERT_EQ(api().mutex_init(&locks[i].m, &attr), 0);
    pthread_mutexattr_destroy(&attr);
    initial[i] = locks[i].m;
  }
  std::vector<ThreadTally> tallies(kThreads);
  {
    Watchdog watchdog("MixedOperationsOnFewMutexes", std::chrono::seconds(90));
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        Rng rng(t + 1);
        start.arrive_and_wait();
        ThreadTally& tally = tallies[t];
        for (int i = 0; i < kOpsPerThread; ++i) {
          HotLock& lock = locks[rng.Below(kLocks)];
          const uint32_t op = rng.Below(4);
          const int rc = Acquire(api(), &lock.m, op, rng);
          if (rc != 0) {
            if (IsExpectedFailure(op, rc)) {
              ++tally.busy_or_timeout;
            } else {
              ++tally.wrong_results;
            }
            continue;
          }
          if (lock.inside != -1) ++tally.exclusion_violations;
          lock.inside = t;
          ++lock.counter;
          ++tally.acquired;
          if (kind() == Kind::kRecursive && rng.Below(4) == 0) {
            if (api().mutex_lock(&lock.m) == 0) {
              ++lock.counter;
              ++tally.acquired;
              if (api().mutex_unlock(&lock.m) != 0) ++tally.wrong_results;
            } else {
              ++tally.wrong_results;
            }
          }
          if (kind() == Kind::kErrorcheck && rng.Below(16) == 0 &&
              api().mutex_lock(&lock.m) != EDEADLK) {
            ++tally.wrong_results;
          }
          if (rng.Below(64) == 0) std::this_thread::yield();
          if (lock.inside != t) ++tally.exclusion_violations;
          lock.inside = -1;
          if (api().mutex_unlock(&lock.m) != 0) ++tally.wrong_results;
        }
      });
    }
    for (auto& th : threads) th.join();
  }
  long acquired = 0;
  for (const ThreadTally& tally : tallies) {
    acquired += tally.acquired;
    EXPECT_EQ(tally.wrong_results, 0);
    EXPECT_EQ(tally.exclusion_violations, 0);
  }
  long counted = 0;
  for (const HotLock& lock : locks) counted += lock.counter;
  EXPECT_EQ(counted, acquired);
  EXPECT_GT(acquired, kThreads * kOpsPerThread / 4) << "almost nothing was acquired";
  for (int i = 0; i < kLocks; ++i) {
    ExpectBackToInitialState(api(), &locks[i].m, kind(), initial[i], i);
    EXPECT_EQ(api().mutex_destroy(&locks[i].m), 0);
  }
}

// Ten thousand adjacent mutexes: the parking lot hashes many of them into the
// same bucket, so waiters for different locks share queues. All threads walk
// the array together (a shared cursor), each picking locks in a small window
// ahead of it, and often hold two of them (in address order), so several
// nearby locks have waiters at once.
TEST_P(MutexStress, AddressCollisionOnManyMutexes) {
  constexpr int kThreads = 8;
  constexpr size_t kLocks = 10000;
  constexpr int kWindow = 16;
  constexpr int kOpsPerThread = 100000;
  auto mutexes = std::make_unique<pthread_mutex_t[]>(kLocks);
  auto counters = std::make_unique<long[]>(kLocks);  // counters[i] guarded by mutexes[i]
  pthread_mutex_t initial;
  {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PthreadType(kind()));
    for (size_t i = 0; i < kLocks; ++i) {
      ASSERT_EQ(api().mutex_init(&mutexes[i], &attr), 0);
      counters[i] = 0;
    }
    pthread_mutexattr_destroy(&attr);
    initial = mutexes[0];
  }
  std::vector<ThreadTally> tallies(kThreads);
  std::atomic<size_t> cursor{0};
  {
    Watchdog watchdog("AddressCollisionOnManyMutexes", std::chrono::seconds(90));
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        Rng rng(1000 + t);
        start.arrive_and_wait();
        ThreadTally& tally = tallies[t];
        for (int i = 0; i < kOpsPerThread; ++i) {
          const size_t base = cursor.fetch_add(1, std::memory_order_relaxed) / kThreads %
                              (kLocks - kWindow);
          size_t first = base + rng.Below(kWindow);
          size_t second = base + rng.Below(kWindow);
          if (second < first) std::swap(first, second);
          const uint32_t op = rng.Below(4);
          const int rc = Acquire(api(), &mutexes[first], op, rng);
          if (rc != 0) {
            if (IsExpectedFailure(op, rc)) {
              ++tally.busy_or_timeout;
            } else {
              ++tally.wrong_results;
            }
            continue;
          }
          ++counters[first];
          ++tally.acquired;
          if (second != first) {
            if (api().mutex_lock(&mutexes[second]) != 0) {
              ++tally.wrong_results;
            } else {
              ++counters[second];
              ++tally.acquired;
              if (rng.Below(64) == 0) std::this_thread::yield();
              if (api().mutex_unlock(&mutexes[second]) != 0) ++tally.wrong_results;
            }
          }
          if (api().mutex_unlock(&mutexes[first]) != 0) ++tally.wrong_results;
        }
      });
    }
    for (auto& th : threads) th.join();
  }
  long acquired = 0;
  for (const ThreadTally& tally : tallies) {
    acquired += tally.acquired;
    EXPECT_EQ(tally.wrong_results, 0);
  }
  long counted = 0;
  for (size_t i = 0; i < kLocks; ++i) counted += counters[i];
  EXPECT_EQ(counted, acquired);
  int not_initial = 0;
  for (size_t i = 0; i < kLocks; ++i) {
    if (!SameStateBytes(mutexes[i], initial)) {
      if (++not_initial <= 5) ADD_FAILURE() << "mutex " << i << " state bytes changed";
    }
    if (kind() == Kind::kRecursive || kind() == Kind::kErrorcheck) {
      ASSERT_EQ(api().mutex_unlock(&mutexes[i]), EPERM) << "mutex " << i;
    }
    ASSERT_EQ(api().mutex_trylock(&mutexes[i]), 0) << "mutex " << i;
    ASSERT_EQ(api().mutex_unlock(&mutexes[i]), 0) << "mutex " << i;
    ASSERT_EQ(api().mutex_destroy(&mutexes[i]), 0) << "mutex " << i;
  }
  EXPECT_EQ(not_initial, 0);
}

// Eventual fairness (parklock's promise, not glibc's, so parklock only): a
// thread that re-locks in a tight loop cannot keep a parked waiter out. The
// waiter must get each of its acquisitions within a second, far above the
// ~1 ms fairness interval, so a loaded machine does not make it flaky.
TEST(MutexFairness, ParkedWaiterIsNotStarvedByABargingThread) {
  constexpr int kAcquisitions = 50;
  pthread_mutex_t m;
  ASSERT_EQ(parklock_mutex_init(&m, nullptr), 0);
  std::atomic<bool> done{false};
  Watchdog watchdog("ParkedWaiterIsNotStarvedByABargingThread", std::chrono::seconds(60));
  std::thread hog([&] {
    while (!done.load(std::memory_order_relaxed)) {
      parklock_mutex_lock(&m);
      for (int i = 0; i < 200; ++i) asm volatile("" ::: "memory");
      parklock_mutex_unlock(&m);
    }
  });
  int64_t longest_wait = 0;
  for (int i = 0; i < kAcquisitions; ++i) {
    const int64_t start = NowNs(CLOCK_MONOTONIC);
    ASSERT_EQ(parklock_mutex_lock(&m), 0);
    longest_wait = std::max(longest_wait, NowNs(CLOCK_MONOTONIC) - start);
    ASSERT_EQ(parklock_mutex_unlock(&m), 0);
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  done.store(true);
  hog.join();
  EXPECT_LT(longest_wait, kSec) << "longest wait " << longest_wait / kMs << " ms";
  EXPECT_EQ(parklock_mutex_destroy(&m), 0);
}

std::string StressName(const ::testing::TestParamInfo<std::tuple<const LockApi*, Kind>>& info) {
  return std::string(std::get<0>(info.param)->name) + "_" + KindName(std::get<1>(info.param));
}

INSTANTIATE_TEST_SUITE_P(Backends, MutexStress,
                         ::testing::Combine(::testing::Values(&kGlibc, &kParklock), AllKinds()),
                         StressName);

}  // namespace
}  // namespace parklock_test
