// Condition variables paired with mutexes of another family: a process-shared
// condvar (glibc's) with an ordinary mutex (ours), a recursive mutex held
// more than once, a robust mutex left inconsistent. glibc's results are the
// reference; each scenario runs under a watchdog.
#include <errno.h>
#include <pthread.h>

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "lock_api.h"
#include "test_support.h"

namespace parklock_test {
namespace {

class CondvarPairing : public ::testing::TestWithParam<const LockApi*> {
 protected:
  const LockApi& api() const { return *GetParam(); }
};

// ---- A process-shared condvar with a private mutex -------------------------

// After a wait on a process-shared condvar returns, the waiter holds the
// private mutex, and nobody else can take it.
TEST_P(CondvarPairing, ProcessSharedCondvarWithPrivateMutexHasOneOwner) {
  Watchdog watchdog("ProcessSharedCondvarWithPrivateMutexHasOneOwner", std::chrono::seconds(60));
  TestMutex m(api(), Kind::kNormal);
  TestCond c(api(), CLOCK_REALTIME, /*process_shared=*/true);
  bool waiting = false;  // guarded by m
  bool ready = false;    // guarded by m
  std::atomic<bool> waiter_holds{false}, probed{false};
  std::thread waiter([&] {
    api().mutex_lock(m.get());
    waiting = true;
    while (!ready) api().cond_wait(c.get(), m.get());
    waiter_holds = true;
    while (!probed) std::this_thread::yield();
    api().mutex_unlock(m.get());
  });
  // Once `waiting` is seen under the mutex, the waiter is inside the wait.
  for (bool in_wait = false; !in_wait;) {
    api().mutex_lock(m.get());
    in_wait = waiting;
    if (!in_wait) api().mutex_unlock(m.get());
    if (!in_wait) std::this_thread::yield();
  }
  ready = true;
  EXPECT_EQ(api().cond_signal(c.get()), 0);
  api().mutex_unlock(m.get());
  while (!waiter_holds) std::this_thread::yield();
  const int probe = api().mutex_trylock(m.get());
  if (probe == 0) api().mutex_unlock(m.get());
  probed = true;
  waiter.join();
  EXPECT_EQ(probe, EBUSY) << "the mutex had a second owner while the woken waiter held it";
}

// A thread blocked on the private mutex gets it once the holder waits on the
// process-shared condvar, and its signal then wakes the holder.
TEST_P(CondvarPairing, ProcessSharedCondvarWithPrivateMutexWakesBlockedLocker) {
  Watchdog watchdog("ProcessSharedCondvarWithPrivateMutexWakesBlockedLocker", std::chrono::seconds(60));
  TestMutex m(api(), Kind::kNormal);
  TestCond c(api(), CLOCK_REALTIME, /*process_shared=*/true);
  bool signalled = false;  // guarded by m
  api().mutex_lock(m.get());
  std::thread locker([&] {
    api().mutex_lock(m.get());
    signalled = true;
    api().cond_signal(c.get());
    api().mutex_unlock(m.get());
  });
  // Until the locker is blocked on the mutex, then a while so that it sleeps.
  while (!HasBlockedLocker(m.get())) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  int rc = 0;
  const timespec at = DeadlineIn(CLOCK_REALTIME, 10 * kSec);
  while (!signalled && rc == 0) rc = api().cond_timedwait(c.get(), m.get(), &at);
  EXPECT_EQ(rc, 0) << "the blocked locker never got the mutex the waiter released";
  EXPECT_TRUE(signalled);
  api().mutex_unlock(m.get());
  locker.join();
}

// Ping-pong through a process-shared condvar, two private mutex kinds, and a
// third thread that keeps taking the mutex: every increment is exclusive.
TEST_P(CondvarPairing, ProcessSharedCondvarWithPrivateMutexPingPong) {
  constexpr int kRounds = 300;
  Watchdog watchdog("ProcessSharedCondvarWithPrivateMutexPingPong", std::chrono::seconds(60));
  for (Kind kind : {Kind::kNormal, Kind::kErrorcheck}) {
    SCOPED_TRACE(KindName(kind));
    TestMutex m(api(), kind);
    TestCond c(api(), CLOCK_MONOTONIC, /*process_shared=*/true);
    int turn = 0;        // guarded by m
    long counter = 0;    // guarded by m
    std::atomic<bool> stop{false};
    std::atomic<int> errors{0};
    auto player = [&](int me) {
      api().mutex_lock(m.get());
      for (int i = 0; i < kRounds; ++i) {
        while (turn != me) {
          if (api().cond_wait(c.get(), m.get()) != 0) errors.fetch_add(1);
        }
        ++counter;
        turn = 1 - me;
        api().cond_broadcast(c.get());
      }
      api().mutex_unlock(m.get());
    };
    std::thread intruder([&] {
      long mine = 0;
      while (!stop.load()) {
        if (api().mutex_lock(m.get()) != 0) errors.fetch_add(1);
        const long before = counter;
        counter = before + 1;
        ++mine;
        if (api().mutex_unlock(m.get()) != 0) errors.fetch_add(1);
      }
      api().mutex_lock(m.get());
      counter -= mine;
      api().mutex_unlock(m.get());
    });
    std::thread other(player, 1);
    player(0);
    other.join();
    stop = true;
    intruder.join();
    EXPECT_EQ(errors.load(), 0);
    EXPECT_EQ(counter, 2 * kRounds);
  }
}

// A thread cancelled in such a wait holds the private mutex again when its
// cleanup handler runs (an errorcheck mutex: the handler's unlock says so).
struct CancelTarget {
  const LockApi* api;
  pthread_mutex_t* m;
  pthread_cond_t* c;
  bool waiting = false;  // guarded by m
  int cleanup_unlock = -1;
};

void UnlockInCleanup(void* arg) {
  auto* t = static_cast<CancelTarget*>(arg);
  t->cleanup_unlock = t->api->mutex_unlock(t->m);
}

void* WaitForever(void* arg) {
  auto* t = static_cast<CancelTarget*>(arg);
  t->api->mutex_lock(t->m);
  pthread_cleanup_push(UnlockInCleanup, t);
  t->waiting = true;
  for (;;) t->api->cond_wait(t->c, t->m);
  pthread_cleanup_pop(0);
  return nullptr;
}

TEST_P(CondvarPairing, ProcessSharedCondvarWithPrivateMutexCancelledWaitHoldsTheMutex) {
  Watchdog watchdog("ProcessSharedCondvarWithPrivateMutexCancelledWaitHoldsTheMutex",
                    std::chrono::seconds(60));
  TestMutex m(api(), Kind::kErrorcheck);
  TestCond c(api(), CLOCK_REALTIME, /*process_shared=*/true);
  CancelTarget target{&api(), m.get(), c.get()};
  pthread_t thread;
  ASSERT_EQ(pthread_create(&thread, nullptr, WaitForever, &target), 0);
  for (bool in_wait = false; !in_wait;) {
    api().mutex_lock(m.get());
    in_wait = target.waiting;
    api().mutex_unlock(m.get());
    if (!in_wait) std::this_thread::yield();
  }
  ASSERT_EQ(pthread_cancel(thread), 0);
  void* result = nullptr;
  EXPECT_EQ(pthread_join(thread, &result), 0);
  EXPECT_EQ(result, PTHREAD_CANCELED);
  EXPECT_EQ(target.cleanup_unlock, 0) << "the cleanup handler ran without the mutex held";
}

// ---- A recursive mutex locked twice --------------------------------------

// glibc's cond_wait unlocks once and relocks once: a recursive mutex locked
// twice stays held (at one level) for the whole wait, and comes back at two.
TEST_P(CondvarPairing, RecursiveMutexLockedTwiceStaysHeldDuringTheWait) {
  Watchdog watchdog("RecursiveMutexLockedTwiceStaysHeldDuringTheWait", std::chrono::seconds(60));
  TestMutex m(api(), Kind::kRecursive);
  TestCond c(api());
  ASSERT_EQ(api().mutex_lock(m.get()), 0);
  ASSERT_EQ(api().mutex_lock(m.get()), 0);
  std::atomic<bool> waiting_done{false};
  std::atomic<int> probes{0}, probes_that_locked{0};
  std::thread prober([&] {
    // Throughout the wait, the mutex is someone else's.
    while (!waiting_done) {
      if (api().mutex_trylock(m.get()) == 0) {
        probes_that_locked.fetch_add(1);
        api().mutex_unlock(m.get());
      }
      probes.fetch_add(1);
      std::this_thread::yield();
    }
  });
  while (probes.load() == 0) std::this_thread::yield();
  const timespec at = DeadlineIn(CLOCK_REALTIME, 200 * kMs);
  EXPECT_EQ(api().cond_timedwait(c.get(), m.get(), &at), ETIMEDOUT);
  waiting_done = true;
  prober.join();
  EXPECT_EQ(probes_that_locked.load(), 0) << "the mutex was free during the wait";
  EXPECT_EQ(m.get()->__data.__count, 2u);
  EXPECT_EQ(api().mutex_unlock(m.get()), 0);
  EXPECT_EQ(api().mutex_unlock(m.get()), 0);
  EXPECT_EQ(api().mutex_unlock(m.get()), EPERM);
}

// A broadcast to waiters that hold a recursive mutex twice wakes them all
// (none can be moved onto the mutex each of them holds).
TEST_P(CondvarPairing, BroadcastToWaitersHoldingRecursiveMutexesTwice) {
  constexpr int kWaiters = 3;
  Watchdog watchdog("BroadcastToWaitersHoldingRecursiveMutexesTwice", std::chrono::seconds(60));
  TestMutex guard(api(), Kind::kNormal);
  TestCond c(api());
  bool go = false;  // guarded by guard
  int waiting = 0;  // guarded by guard
  std::vector<std::thread> waiters;
  std::atomic<int> woken{0};
  for (int w = 0; w < kWaiters; ++w) {
    waiters.emplace_back([&] {
      TestMutex mine(api(), Kind::kRecursive);
      api().mutex_lock(mine.get());
      api().mutex_lock(mine.get());
      api().mutex_lock(guard.get());
      ++waiting;
      api().mutex_unlock(guard.get());
      // The predicate is guarded by `guard`, but the wait holds `mine`:
      // the broadcast below is made until every waiter has seen it.
      for (;;) {
        api().mutex_lock(guard.get());
        const bool seen = go;
        api().mutex_unlock(guard.get());
        if (seen) break;
        const timespec at = DeadlineIn(CLOCK_REALTIME, 50 * kMs);
        api().cond_timedwait(c.get(), mine.get(), &at);
      }
      woken.fetch_add(1);
      api().mutex_unlock(mine.get());
      api().mutex_unlock(mine.get());
    });
  }
  for (bool all = false; !all;) {
    api().mutex_lock(guard.get());
    all = waiting == kWaiters;
    api().mutex_unlock(guard.get());
    std::this_thread::yield();
  }
  api().mutex_lock(guard.get());
  go = true;
  api().mutex_unlock(guard.get());
  while (woken.load() < kWaiters) {
    EXPECT_EQ(api().cond_broadcast(c.get()), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  for (auto& t : waiters) t.join();
}

// ---- A robust mutex left inconsistent --------------------------------------

// Its owner died; the caller locked it (EOWNERDEAD) and waits without making
// it consistent: glibc's release marks it unrecoverable, the wait runs its
// course, and the relock reports ENOTRECOVERABLE.
TEST_P(CondvarPairing, WaitOnInconsistentRobustMutexIsEnotrecoverable) {
  Watchdog watchdog("WaitOnInconsistentRobustMutexIsEnotrecoverable", std::chrono::seconds(60));
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_t m;
  ASSERT_EQ(api().mutex_init(&m, &attr), 0);
  pthread_mutexattr_destroy(&attr);
  std::thread([&] { api().mutex_lock(&m); }).join();  // dies holding it
  ASSERT_EQ(api().mutex_lock(&m), EOWNERDEAD);
  TestCond c(api());
  const timespec at = DeadlineIn(CLOCK_REALTIME, 20 * kMs);
  EXPECT_EQ(api().cond_timedwait(c.get(), &m, &at), ENOTRECOVERABLE);
  EXPECT_EQ(api().mutex_lock(&m), ENOTRECOVERABLE);
  EXPECT_EQ(api().mutex_destroy(&m), 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, CondvarPairing, AllBackends(), BackendName);

}  // namespace
}  // namespace parklock_test
