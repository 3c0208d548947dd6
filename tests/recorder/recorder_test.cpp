// The recorder fed by the real lock algorithms (RawMutex, RawRwLock,
// RawCondvar), with a stack capture of the test's own that says which
// "call-site" a thread is at, so each site's counts can be checked exactly.
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/hang_guards.h"
#include "contention_recorder.h"
#include "parking_lot.h"
#include "raw_condvar.h"
#include "raw_mutex.h"
#include "raw_rwlock.h"

namespace {

using namespace parklock;
using namespace std::chrono_literals;
using parklock_test::Watchdog;

// The fake call-site of the calling thread: capture returns {site}.
thread_local uintptr_t t_site = 0;
std::atomic<int> g_captures{0};
std::atomic<int> g_captures_while_queued{0};

int fake_capture(uintptr_t* pcs, int max_depth, int) {
  g_captures.fetch_add(1);
  if (!may_park()) g_captures_while_queued.fetch_add(1);
  if (max_depth < 1 || t_site == 0) return 0;
  pcs[0] = t_site;
  return 1;
}

// The published site whose one frame is `pc` and kind is `kind`.
Site* site_at(uintptr_t pc, LockKind kind) {
  SiteTable& table = recorder::sites();
  for (size_t i = 0; i < table.capacity(); ++i) {
    Site& s = table.slot(i);
    if (i != SiteTable::kOverflowSlot && s.published() && s.kind == kind && s.depth == 1 && s.pcs[0] == pc)
      return &s;
  }
  return nullptr;
}

void start(int sample_every = 1, size_t capacity = 4096) {
  recorder::Config config;
  config.stack_depth = 4;
  config.sample_every = sample_every;
  config.site_capacity = capacity;
  config.capture_stack = &fake_capture;
  ASSERT_TRUE(recorder::start(config));
}

// Blocks until `n` threads are parked on `key` (the holder keeps the lock
// until then, so every waiter's acquisition is contended).
void wait_until_parked(const void* key, size_t n) {
  const auto give_up = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < give_up) {
    size_t queued = 0;
    unpark_filter(
        key, [&](ParkToken) { ++queued; return FilterOp::kSkip; }, [](UnparkResult) { return kTokenRetry; });
    if (queued >= n) return;
    std::this_thread::sleep_for(1ms);
  }
  FAIL() << "waiters never parked";
}

// Every waiter parks before the holder lets go: each wait is recorded once,
// at its own site, and the holder's unlock is charged with the waiting.
TEST(Recorder, ParkedWaitersAreCountedExactlyAtTheirSites) {
  Watchdog dog("ParkedWaitersAreCountedExactlyAtTheirSites", 60s);
  start();
  static RawMutex::Word word = 0;
  constexpr uintptr_t kWaiterSite = 0x1000, kHolderSite = 0x2000;
  constexpr int kWaiters = 3, kRounds = 3;
  for (int round = 0; round < kRounds; ++round) {
    t_site = kHolderSite;
    RawMutex::lock(word);
    std::vector<std::thread> waiters;
    for (int i = 0; i < kWaiters; ++i)
      waiters.emplace_back([] {
        t_site = kWaiterSite;
        RawMutex::lock(word);
        RawMutex::unlock(word);
      });
    wait_until_parked(&word, kWaiters);
    RawMutex::unlock(word);
    for (auto& w : waiters) w.join();
  }
  Site* waiter = site_at(kWaiterSite, LockKind::kMutex);
  ASSERT_NE(waiter, nullptr);
  EXPECT_EQ(waiter->wait.count.load(), uint64_t(kWaiters * kRounds));
  uint64_t in_buckets = 0;
  for (auto& b : waiter->wait.buckets) in_buckets += b.load();
  EXPECT_EQ(in_buckets, waiter->wait.count.load());
  EXPECT_GE(waiter->wait.max_ns.load() * waiter->wait.count.load(), waiter->wait.sum_ns.load());
  // Contended acquisitions have their hold timed.
  EXPECT_EQ(waiter->hold.count.load(), uint64_t(kWaiters * kRounds));
  Site* holder = site_at(kHolderSite, LockKind::kMutex);
  ASSERT_NE(holder, nullptr);
  EXPECT_GT(holder->caused_wait_ns.load(), 0u);
  EXPECT_EQ(holder->caused_wakeups.load(), uint64_t(kRounds));
  EXPECT_EQ(word, 0) << "the timing bit was left behind";
  recorder::stop();
}

// A condvar's wait releases its mutex while the waiter is already queued on
// the condvar: an unlock there that wakes a mutex waiter must not take a
// stack (the unwinder may lock, and a queued thread must never park again;
// that corrupted the queue once: a scrape spun forever in the parking lot).
TEST(Recorder, NoStackIsTakenWhileTheThreadIsQueued) {
  Watchdog dog("NoStackIsTakenWhileTheThreadIsQueued", 60s);
  start();
  static RawMutex::Word mutex = 0;
  static RawCondvar::Word cv = 0;
  g_captures_while_queued = 0;
  std::atomic<bool> ready{false};
  for (int round = 0; round < 50; ++round) {
    ready = false;
    RawMutex::lock(mutex);
    // A second thread waits for the mutex while we wait on the condvar.
    std::thread contender([] {
      t_site = 0x3000;
      RawMutex::lock(mutex);
      RawMutex::unlock(mutex);
    });
    wait_until_parked(&mutex, 1);
    std::thread notifier([&] {
      wait_until_parked(&cv, 1);
      RawCondvar::notify_one(cv, &cv);
    });
    t_site = 0x4000;
    RawCondvar::wait(cv, &cv,
                     {&mutex, [] { RawMutex::unlock(mutex); },
                      [](bool held) {
                        if (!held) RawMutex::lock(mutex);
                      }},
                     Deadline::forever());
    RawMutex::unlock(mutex);
    contender.join();
    notifier.join();
  }
  EXPECT_EQ(g_captures_while_queued.load(), 0);
  EXPECT_EQ(mutex, 0);
  recorder::stop();
}

// 1 in 4 waits takes a stack; the other waits still count, at the site the
// lock was last sampled at. (A thread's first event is always sampled: the
// reader and the writer stay the same threads throughout.)
TEST(Recorder, SampledWaitsKeepExactCounts) {
  Watchdog dog("SampledWaitsKeepExactCounts", 60s);
  start(/*sample_every=*/4);
  static RawRwLock::Word word = 0;
  constexpr int kRounds = 16;
  std::atomic<int> round{0}, reads{0};
  std::thread reader([&] {
    t_site = 0x5000;
    for (int r = 1; r <= kRounds; ++r) {
      while (round.load() < r) std::this_thread::yield();
      ASSERT_EQ(RawRwLock::lock_shared(word, Deadline::forever()), RawRwLock::Acquire::kAcquired);
      reads.fetch_add(1);
      RawRwLock::unlock_shared(word);
    }
  });
  t_site = 0x6000;
  const int before = g_captures.load();
  for (int r = 1; r <= kRounds; ++r) {
    ASSERT_TRUE(RawRwLock::lock_exclusive(word, RawRwLock::Preference::kReaders, Deadline::forever()));
    round = r;
    wait_until_parked(&word, 1);
    RawRwLock::unlock_exclusive(word, RawRwLock::Preference::kReaders);
    while (reads.load() < r) std::this_thread::yield();
  }
  reader.join();
  // Each round: the reader's wait and the writer's unlock, an event each,
  // on two threads whose countdowns each take every 4th (the first included).
  const int captures = g_captures.load() - before;
  EXPECT_GE(captures, 2 * kRounds / 4);
  EXPECT_LE(captures, 2 * kRounds / 4 + 2);
  uint64_t counted = 0;
  SiteTable& table = recorder::sites();
  for (size_t i = 0; i < table.capacity(); ++i)
    if (table.slot(i).published() && table.slot(i).kind == LockKind::kRwlockRead) counted += table.slot(i).wait.count.load();
  EXPECT_EQ(counted, uint64_t(kRounds));
  recorder::stop();
}

// A writer that waited has its hold timed too, under either preference, and
// the timing bit leaves with it.
TEST(Recorder, ContendedWriterHoldIsTimed) {
  Watchdog dog("ContendedWriterHoldIsTimed", 60s);
  start();
  for (auto pref : {RawRwLock::Preference::kReaders, RawRwLock::Preference::kWriters}) {
    static RawRwLock::Word word = 0;
    const uintptr_t site = pref == RawRwLock::Preference::kReaders ? 0x7000 : 0x7100;
    constexpr int kRounds = 3;
    for (int round = 0; round < kRounds; ++round) {
      ASSERT_EQ(RawRwLock::lock_shared(word, Deadline::forever()), RawRwLock::Acquire::kAcquired);
      std::thread writer([&] {
        t_site = site;
        ASSERT_TRUE(RawRwLock::lock_exclusive(word, pref, Deadline::forever()));
        RawRwLock::unlock_exclusive(word, pref);
      });
      wait_until_parked(pref == RawRwLock::Preference::kReaders ? static_cast<const void*>(&word)
                                                                 : reinterpret_cast<const char*>(&word) + 1,
                        1);
      RawRwLock::unlock_shared(word);
      writer.join();
    }
    Site* s = site_at(site, LockKind::kRwlockWrite);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->wait.count.load(), uint64_t(kRounds));
    EXPECT_EQ(s->hold.count.load(), uint64_t(kRounds));
    EXPECT_EQ(word, 0u) << "the timing bit was left behind";
  }
  recorder::stop();
}

// More sites than the table holds: the rest go to the overflow site, counted
// as dropped, and nothing is lost from the totals.
TEST(Recorder, OverflowSiteTakesWhatDoesNotFit) {
  // A fresh process: the table's capacity is fixed at its first start.
  ASSERT_EXIT(
      {
        start(1, /*capacity=*/16);
        static RawMutex::Word word = 0;
        constexpr int kSites = 40;
        for (int i = 0; i < kSites; ++i) {
          RawMutex::lock(word);
          std::thread waiter([i] {
            t_site = 0x10000 + uintptr_t(i) * 16;
            RawMutex::lock(word);
            RawMutex::unlock(word);
          });
          wait_until_parked(&word, 1);
          RawMutex::unlock(word);
          waiter.join();
        }
        SiteTable& table = recorder::sites();
        uint64_t waits = 0;
        for (size_t i = 0; i < table.capacity(); ++i)
          if (table.slot(i).published()) waits += table.slot(i).wait.count.load();
        bool ok = waits == kSites && table.dropped_events() > 0 && table.overflow().wait.count.load() > 0 &&
                  table.used() <= 15;
        std::exit(ok ? 0 : 1);
      },
      testing::ExitedWithCode(0), "");
}

}  // namespace
