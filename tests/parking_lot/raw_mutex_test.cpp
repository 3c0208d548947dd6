// WordLock and RawMutex: mutual exclusion over a grid of contention shapes,
// the lock word back at 0 afterwards, time-limited locking, the fairness
// handoff, and a bound on how long any waiter waits.
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "raw_mutex.h"
#include "spin_wait.h"
#include "test_util.h"
#include "word_lock.h"

namespace parking_lot_test {
namespace {

using namespace std::chrono_literals;
using parklock::RawMutex;
using parklock::WordLock;

// WordLock keeps its state private; the test reads the 32-bit word it is.
static_assert(sizeof(WordLock) == sizeof(uint32_t));
uint32_t StateOf(const WordLock& lock) {
  uint32_t v;
  std::memcpy(&v, static_cast<const void*>(&lock), sizeof v);
  return v;
}

int WordOf(RawMutex::Word& w) { return std::atomic_ref<int>(w).load(std::memory_order_acquire); }

// How a thread behaves inside the critical section.
enum class Hold { kEmpty, kSpin, kSleepSometimes };

struct Shape {
  int threads;
  Hold hold;
};

std::string ShapeName(const ::testing::TestParamInfo<Shape>& info) {
  const char* holds[] = {"Empty", "Spin", "SleepSometimes"};
  return std::to_string(info.param.threads) + "Threads_" + holds[int(info.param.hold)];
}

// Inside the critical section: nothing, a short spin, or (one time in 64) a
// 50 us nap that forces the waiters to sleep in the kernel.
void HoldFor(Hold hold, uint32_t i) {
  if (hold == Hold::kSpin) {
    for (int k = 0; k < 20; ++k) parklock::cpu_relax();
  } else if (hold == Hold::kSleepSometimes && i % 64 == 0) {
    SleepNs(50'000);
  }
}

const Shape kShapes[] = {
    {2, Hold::kEmpty}, {2, Hold::kSpin}, {2, Hold::kSleepSometimes},
    {4, Hold::kEmpty}, {4, Hold::kSpin}, {4, Hold::kSleepSometimes},
    {8, Hold::kEmpty}, {8, Hold::kSpin}, {8, Hold::kSleepSometimes},
};

// A counter updated non-atomically (read, pause, write back) inside the lock:
// any overlap of two holders loses increments.
struct Guarded {
  long value = 0;
  void Increment() {
    long v = value;
    parklock::cpu_relax();
    value = v + 1;
  }
};

class WordLockGrid : public ::testing::TestWithParam<Shape> {};

TEST_P(WordLockGrid, MutualExclusionThenUnlocked) {
  Watchdog dog("WordLockGrid", 60s);
  const Shape s = GetParam();
  const int ops = s.hold == Hold::kSleepSometimes ? 2000 : 20000;
  WordLock lock;
  Guarded counter;
  std::vector<std::thread> threads;
  for (int t = 0; t < s.threads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < ops; ++i) {
        lock.lock();
        counter.Increment();
        HoldFor(s.hold, uint32_t(i));
        lock.unlock();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter.value, long(s.threads) * ops);
  EXPECT_EQ(StateOf(lock), 0u);
}

INSTANTIATE_TEST_SUITE_P(Shapes, WordLockGrid, ::testing::ValuesIn(kShapes), ShapeName);

TEST(WordLock, ResetAfterForkFreesALockHeldByAGoneThread) {
  WordLock lock;
  lock.lock();
  lock.reset_after_fork();
  EXPECT_EQ(StateOf(lock), 0u);
  lock.lock();
  lock.unlock();
  EXPECT_EQ(StateOf(lock), 0u);
}

class RawMutexGrid : public ::testing::TestWithParam<Shape> {};

// Every thread mixes lock, try_lock and lock_until (with deadlines that
// sometimes pass while it is parked): timed-out and failed attempts must
// leave no stale kParked behind once everyone is done.
TEST_P(RawMutexGrid, MutualExclusionThenWordIsZero) {
  Watchdog dog("RawMutexGrid", 60s);
  const Shape s = GetParam();
  const int ops = s.hold == Hold::kSleepSometimes ? 2000 : 20000;
  RawMutex::Word word = 0;
  Guarded counter;
  std::atomic<long> timeouts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < s.threads; ++t) {
    threads.emplace_back([&, t] {
      std::minstd_rand rng(t + 1);
      for (int i = 0; i < ops;) {
        const uint32_t how = rng() % 8;
        bool held;
        if (how == 0) {
          held = RawMutex::try_lock(word);
        } else if (how == 1) {
          const clockid_t clock = rng() % 2 ? CLOCK_MONOTONIC : CLOCK_REALTIME;
          timespec at = In(clock, int64_t(rng() % 100'000) - 20'000);
          held = RawMutex::lock_until(word, Deadline::on(clock, &at));
          if (!held) timeouts.fetch_add(1, std::memory_order_relaxed);
        } else {
          RawMutex::lock(word);
          held = true;
        }
        if (!held) continue;
        counter.Increment();
        HoldFor(s.hold, uint32_t(i));
        RawMutex::unlock(word);
        ++i;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter.value, long(s.threads) * ops);
  EXPECT_EQ(WordOf(word), 0) << "lock word not back to its initial state";
  EXPECT_EQ(QueuedOn(&word), 0u);
  RecordProperty("timeouts", int(timeouts.load()));
}

INSTANTIATE_TEST_SUITE_P(Shapes, RawMutexGrid, ::testing::ValuesIn(kShapes), ShapeName);

// Eight mutexes whose words share a bucket, four threads each taking random
// ones: waiters of different mutexes share a queue and must not steal each
// other's wake-ups.
TEST(RawMutex, MutexesSharingABucket) {
  Watchdog dog("MutexesSharingABucket", 60s);
  constexpr int kMutexes = 8, kThreads = 4, kOps = 5000;
  // Colliding addresses, but an int must be aligned: pick aligned ones.
  std::vector<RawMutex::Word*> words;
  for (const void* k : CollidingKeys(400)) {
    if (reinterpret_cast<uintptr_t>(k) % alignof(int) == 0 && words.size() < kMutexes) {
      words.push_back(const_cast<RawMutex::Word*>(static_cast<const RawMutex::Word*>(k)));
    }
  }
  ASSERT_EQ(words.size(), size_t{kMutexes});
  for (auto* w : words) *w = 0;
  std::vector<Guarded> counters(kMutexes);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::minstd_rand rng(t + 5);
      for (int i = 0; i < kOps; ++i) {
        const int m = int(rng() % kMutexes);
        RawMutex::lock(*words[m]);
        counters[m].Increment();
        if (i % 128 == 0) SleepNs(20'000);
        RawMutex::unlock(*words[m]);
      }
    });
  }
  for (auto& t : threads) t.join();
  long total = 0;
  for (auto& c : counters) total += c.value;
  EXPECT_EQ(total, long{kThreads} * kOps);
  for (auto* w : words) EXPECT_EQ(WordOf(*w), 0);
}

// Deadlines that have passed (both clocks, negative seconds): lock_until
// fails at once on a held mutex and succeeds on a free one; the unlock that
// follows returns the word to 0 whatever kParked the attempt left.
TEST(RawMutex, LockUntilPastDeadlines) {
  Watchdog dog("LockUntilPastDeadlines", 60s);
  RawMutex::Word word = 0;
  for (clockid_t clock : {CLOCK_MONOTONIC, CLOCK_REALTIME}) {
    for (timespec at : {timespec{0, 0}, timespec{-1, 0}, timespec{-100, 5}, In(clock, -1)}) {
      EXPECT_TRUE(RawMutex::lock_until(word, Deadline::on(clock, &at)));
      std::thread other([&] {
        const int64_t start = NowNs();
        EXPECT_FALSE(RawMutex::lock_until(word, Deadline::on(clock, &at)));
        EXPECT_LT(NowNs() - start, kSec);
      });
      other.join();
      RawMutex::unlock(word);
      EXPECT_EQ(WordOf(word), 0);
    }
  }
}

// Waiters with deadlines leave while waiters without stay queued: the last
// timed one must not clear kParked (the others would never be woken), and
// once everyone is through the word is 0.
TEST(RawMutex, TimedWaitersLeaveWhileOthersStayQueued) {
  Watchdog dog("TimedWaitersLeaveWhileOthersStayQueued", 60s);
  RawMutex::Word word = 0;
  RawMutex::lock(word);
  std::atomic<int> acquired{0}, timed_out{0};
  std::vector<std::thread> stayers, leavers;
  for (int i = 0; i < 3; ++i) {
    stayers.emplace_back([&] {
      RawMutex::lock(word);
      acquired.fetch_add(1);
      RawMutex::unlock(word);
    });
  }
  ASSERT_TRUE(WaitUntil([&] { return QueuedOn(&word) == 3; }));
  for (int i = 0; i < 3; ++i) {
    leavers.emplace_back([&, i] {
      const clockid_t clock = i % 2 ? CLOCK_REALTIME : CLOCK_MONOTONIC;
      timespec at = In(clock, 30 * kMs);
      if (!RawMutex::lock_until(word, Deadline::on(clock, &at))) timed_out.fetch_add(1);
      else RawMutex::unlock(word);
    });
  }
  for (auto& t : leavers) t.join();
  EXPECT_EQ(timed_out.load(), 3);
  // A leaver wakes one stayer to keep watch (raw_mutex.h); it parks again.
  EXPECT_TRUE(WaitUntil([&] { return QueuedOn(&word) == 3u; }));
  EXPECT_EQ(WordOf(word), RawMutex::kLocked | RawMutex::kParked);
  RawMutex::unlock(word);
  for (auto& t : stayers) t.join();
  EXPECT_EQ(acquired.load(), 3);
  EXPECT_EQ(WordOf(word), 0);
}

// The last timed waiter to leave clears kParked: the next unlock is the
// fast one, and the word is 0 after it.
TEST(RawMutex, LastTimedWaiterClearsParkedBit) {
  Watchdog dog("LastTimedWaiterClearsParkedBit", 60s);
  RawMutex::Word word = 0;
  RawMutex::lock(word);
  std::thread t([&] {
    timespec at = In(CLOCK_MONOTONIC, 30 * kMs);
    EXPECT_FALSE(RawMutex::lock_until(word, Deadline::on(CLOCK_MONOTONIC, &at)));
  });
  t.join();
  EXPECT_EQ(WordOf(word), RawMutex::kLocked);
  RawMutex::unlock(word);
  EXPECT_EQ(WordOf(word), 0);
}

// An unlock and a waiter's deadline at about the same moment, many times:
// the waiter either holds the lock (and nobody else does) or has left, and
// the word is 0 once both are done.
TEST(RawMutex, UnlockRacingWaiterDeadline) {
  Watchdog dog("UnlockRacingWaiterDeadline", 60s);
  RawMutex::Word word = 0;
  constexpr int kRounds = 2000;
  std::minstd_rand rng(17);
  int got = 0, missed = 0;
  for (int round = 0; round < kRounds; ++round) {
    RawMutex::lock(word);
    std::atomic<int> outcome{-1};
    const int64_t wait_ns = int64_t(rng() % 80'000);
    std::thread waiter([&] {
      timespec at = In(CLOCK_MONOTONIC, wait_ns);
      const bool held = RawMutex::lock_until(word, Deadline::on(CLOCK_MONOTONIC, &at));
      if (held) {
        // Nobody else may hold it now.
        outcome.store(RawMutex::try_lock(word) ? 2 : 1);
        RawMutex::unlock(word);
      } else {
        outcome.store(0);
      }
    });
    for (uint32_t i = rng() % 40'000; i > 0; --i) parklock::cpu_relax();
    RawMutex::unlock(word);
    waiter.join();
    ASSERT_NE(outcome.load(), 2) << "round " << round << ": the lock was free while held";
    (outcome.load() == 1 ? got : missed)++;
    ASSERT_EQ(WordOf(word), 0) << "round " << round;
  }
  RecordProperty("acquired", got);
  RecordProperty("timed_out", missed);
}

// A waiter parked for longer than the fairness interval (1 ms) is handed the
// lock by the next unlock: the unlocker cannot take it back even before the
// waiter has run.
TEST(RawMutex, WaiterParkedPastFairnessIntervalIsHandedTheLock) {
  Watchdog dog("WaiterParkedPastFairnessIntervalIsHandedTheLock", 60s);
  RawMutex::Word word = 0;
  for (int extra_waiters : {0, 2}) {
    SCOPED_TRACE(testing::Message() << extra_waiters << " more waiters queued behind");
    RawMutex::lock(word);
    std::atomic<int> holders{0};
    std::atomic<bool> release{false};
    std::vector<std::thread> waiters;
    for (int i = 0; i <= extra_waiters; ++i) {
      waiters.emplace_back([&] {
        RawMutex::lock(word);
        holders.fetch_add(1);
        while (!release.load()) sched_yield();
        RawMutex::unlock(word);
      });
      ASSERT_TRUE(WaitUntil([&] { return QueuedOn(&word) == size_t(i + 1); }));
    }
    SleepNs(5 * kMs);  // time must pass: past the 1 ms fairness interval
    RawMutex::unlock(word);
    EXPECT_FALSE(RawMutex::try_lock(word)) << "unlock barged instead of handing off";
    EXPECT_EQ(WordOf(word), extra_waiters ? RawMutex::kLocked | RawMutex::kParked : RawMutex::kLocked);
    ASSERT_TRUE(WaitUntil([&] { return holders.load() == 1; }));
    release.store(true);
    for (auto& t : waiters) t.join();
    EXPECT_EQ(holders.load(), extra_waiters + 1);
    EXPECT_EQ(WordOf(word), 0);
  }
}

// Eight threads hammer one mutex with short critical sections for about a
// second; no lock() call may wait a second or more (barging is bounded by the
// fairness handoff), and everyone gets in.
TEST(RawMutex, NoWaiterStarvesUnderHammering) {
  Watchdog dog("NoWaiterStarvesUnderHammering", 60s);
  constexpr int kThreads = 8;
  RawMutex::Word word = 0;
  Guarded counter;
  std::atomic<bool> stop{false};
  std::vector<int64_t> longest(kThreads, 0);
  std::vector<long> acquisitions(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      while (!stop.load(std::memory_order_relaxed)) {
        const int64_t start = NowNs();
        RawMutex::lock(word);
        longest[t] = std::max(longest[t], NowNs() - start);
        counter.Increment();
        for (int k = 0; k < 50; ++k) parklock::cpu_relax();
        RawMutex::unlock(word);
        ++acquisitions[t];
      }
    });
  }
  SleepNs(1200 * kMs);  // the run length, not a synchronization
  stop.store(true);
  for (auto& t : threads) t.join();
  long total = 0;
  for (int t = 0; t < kThreads; ++t) {
    total += acquisitions[t];
    EXPECT_GT(acquisitions[t], 0) << "thread " << t << " never got the lock";
    EXPECT_LT(longest[t], kSec) << "thread " << t << " waited " << longest[t] / kMs << " ms";
  }
  EXPECT_EQ(counter.value, total);
  EXPECT_EQ(WordOf(word), 0);
  RecordProperty("longest_wait_us", int(*std::max_element(longest.begin(), longest.end()) / 1000));
}

// glibc's own lock code on the same word (a plugin bound to libc's
// pthread_mutex_lock), done here by hand as glibc 2.36's lll_lock and
// lll_unlock do it.
void GlibcLock(RawMutex::Word& word) {
  std::atomic_ref<int> state(word);
  int expected = 0;
  if (state.compare_exchange_strong(expected, 1, std::memory_order_acquire)) return;
  while (state.exchange(2, std::memory_order_acquire) != 0)
    syscall(SYS_futex, &word, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 2, nullptr, nullptr, 0);
}
void GlibcUnlock(RawMutex::Word& word) {
  if (std::atomic_ref<int>(word).exchange(0, std::memory_order_release) > 1)
    syscall(SYS_futex, &word, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, nullptr, nullptr, 0);
}

// glibc's unlock knows nothing of our queue: the parked waiters notice the
// free word by themselves (their periodic re-check) and all get through.
TEST(RawMutex, WaitersParkedBehindGlibcsUnlockGetThrough) {
  Watchdog dog("WaitersParkedBehindGlibcsUnlockGetThrough", 60s);
  RawMutex::Word word = 0;
  GlibcLock(word);
  std::atomic<int> acquired{0};
  std::vector<std::thread> waiters;
  for (int i = 0; i < 3; ++i) {
    waiters.emplace_back([&] {
      RawMutex::lock(word);
      acquired.fetch_add(1);
      RawMutex::unlock(word);
    });
  }
  ASSERT_TRUE(WaitUntil([&] { return QueuedOn(&word) == 3; }));
  EXPECT_EQ(WordOf(word), 1 | RawMutex::kParked);
  EXPECT_FALSE(RawMutex::try_lock(word));
  GlibcUnlock(word);
  for (auto& t : waiters) t.join();
  EXPECT_EQ(acquired.load(), 3);
  EXPECT_EQ(WordOf(word), 0);
}

// glibc's waiters sleep on the futex with the word at 2 (wiping our
// kParked): our unlock wakes them and ours, and nobody is left behind.
TEST(RawMutex, UnlockWakesGlibcsFutexWaitersAndOurs) {
  Watchdog dog("UnlockWakesGlibcsFutexWaitersAndOurs", 60s);
  RawMutex::Word word = 0;
  RawMutex::lock(word);
  std::atomic<int> acquired{0}, inside{0}, overlaps{0};
  auto critical_section = [&] {
    if (inside.fetch_add(1) != 0) overlaps.fetch_add(1);
    acquired.fetch_add(1);
    inside.fetch_sub(1);
  };
  std::vector<std::thread> threads;
  threads.emplace_back([&] {
    RawMutex::lock(word);
    critical_section();
    RawMutex::unlock(word);
  });
  ASSERT_TRUE(WaitUntil([&] { return QueuedOn(&word) == 1; }));
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&] {
      GlibcLock(word);
      critical_section();
      GlibcUnlock(word);
    });
  }
  // Our waiter may re-mark the word after a re-check (2 | kParked).
  ASSERT_TRUE(WaitUntil([&] { return (WordOf(word) & RawMutex::kGlibcWaiters) != 0; }));
  EXPECT_FALSE(RawMutex::try_lock(word)) << "glibc's 2 reads as held";
  SleepNs(20 * kMs);  // let glibc's lockers fall asleep on the futex
  RawMutex::unlock(word);
  for (auto& t : threads) t.join();
  EXPECT_EQ(acquired.load(), 3);
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_EQ(WordOf(word), 0);
}

}  // namespace
}  // namespace parking_lot_test
