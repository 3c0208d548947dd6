// Condition variables: exact hand-over accounting, wake-ups that must not be
// lost (each scenario under a watchdog), timeouts on both clocks, error codes,
// and the mutex kinds a condvar can be paired with.
#include <errno.h>
#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "lock_api.h"
#include "test_support.h"

namespace parklock_test {
namespace {

class Condvar : public ::testing::TestWithParam<const LockApi*> {
 protected:
  const LockApi& api() const { return *GetParam(); }
};

// ---- Producer / consumer -------------------------------------------------

// A bounded FIFO of item ids guarded by one mutex, with the two classic
// condvars. `broadcast` picks the notification; `notify_unlocked` notifies
// after releasing the mutex (both are common in real code).
class BoundedQueue {
 public:
  static constexpr uint32_t kPoison = UINT32_MAX;

  BoundedQueue(const LockApi& api, pthread_mutex_t* m, bool broadcast, bool notify_unlocked)
      : api_(api), m_(m), not_full_(api), not_empty_(api), broadcast_(broadcast),
        notify_unlocked_(notify_unlocked) {}

  void Push(uint32_t item) {
    Expect(api_.mutex_lock(m_));
    while (size_ == kCapacity) Expect(api_.cond_wait(not_full_.get(), m_));
    ring_[(head_ + size_) % kCapacity] = item;
    ++size_;
    Notify(not_empty_.get());
  }

  uint32_t Pop() {
    Expect(api_.mutex_lock(m_));
    while (size_ == 0) Expect(api_.cond_wait(not_empty_.get(), m_));
    const uint32_t item = ring_[head_];
    head_ = (head_ + 1) % kCapacity;
    --size_;
    Notify(not_full_.get());
    return item;
  }

  long errors() const { return errors_.load(); }

 private:
  static constexpr int kCapacity = 4;

  void Expect(int rc) {
    if (rc != 0) errors_.fetch_add(1);
  }
  // Called with m_ held; releases it.
  void Notify(pthread_cond_t* c) {
    if (notify_unlocked_) Expect(api_.mutex_unlock(m_));
    Expect(broadcast_ ? api_.cond_broadcast(c) : api_.cond_signal(c));
    if (!notify_unlocked_) Expect(api_.mutex_unlock(m_));
  }

  const LockApi& api_;
  pthread_mutex_t* m_;
  TestCond not_full_;
  TestCond not_empty_;
  const bool broadcast_;
  const bool notify_unlocked_;
  uint32_t ring_[kCapacity];  // guarded by m_
  int head_ = 0;              // guarded by m_
  int size_ = 0;              // guarded by m_
  std::atomic<long> errors_{0};
};

// Every produced item is consumed exactly once; a lost wake-up hangs, and the
// watchdog turns that into a failure.
void RunProducerConsumer(const LockApi& api, Kind mutex_kind, bool process_shared_mutex,
                         bool broadcast, bool notify_unlocked, int producers, int consumers,
                         uint32_t items_per_producer) {
  TestMutex m(api, mutex_kind, process_shared_mutex);
  ASSERT_EQ(m.init_result(), 0);
  BoundedQueue queue(api, m.get(), broadcast, notify_unlocked);
  const uint32_t total = producers * items_per_producer;
  std::vector<uint8_t> seen(total, 0);  // seen[i] written by the consumer that popped i
  std::atomic<long> bad_items{0};
  {
    Watchdog watchdog("producer/consumer", std::chrono::seconds(60));
    std::vector<std::thread> consumer_threads;
    for (int c = 0; c < consumers; ++c) {
      consumer_threads.emplace_back([&] {
        for (;;) {
          const uint32_t item = queue.Pop();
          if (item == BoundedQueue::kPoison) return;
          if (item >= total) {
            bad_items.fetch_add(1);
          } else {
            ++seen[item];
          }
        }
      });
    }
    std::vector<std::thread> producer_threads;
    for (int p = 0; p < producers; ++p) {
      producer_threads.emplace_back([&, p] {
        for (uint32_t i = 0; i < items_per_producer; ++i) queue.Push(p * items_per_producer + i);
      });
    }
    for (auto& t : producer_threads) t.join();
    for (int c = 0; c < consumers; ++c) queue.Push(BoundedQueue::kPoison);
    for (auto& t : consumer_threads) t.join();
  }
  EXPECT_EQ(queue.errors(), 0);
  EXPECT_EQ(bad_items.load(), 0);
  uint32_t not_once = 0;
  for (uint32_t i = 0; i < total; ++i) {
    if (seen[i] != 1 && ++not_once <= 5) ADD_FAILURE() << "item " << i << " consumed " << int{seen[i]} << " times";
  }
  EXPECT_EQ(not_once, 0u);
}

TEST_P(Condvar, ProducerConsumerSignal) {
  RunProducerConsumer(api(), Kind::kNormal, false, false, false, 4, 4, 10000);
}

TEST_P(Condvar, ProducerConsumerSignalAfterUnlock) {
  RunProducerConsumer(api(), Kind::kNormal, false, false, true, 4, 4, 10000);
}

TEST_P(Condvar, ProducerConsumerBroadcast) {
  RunProducerConsumer(api(), Kind::kNormal, false, true, false, 4, 4, 10000);
}

TEST_P(Condvar, ProducerConsumerBroadcastAfterUnlock) {
  RunProducerConsumer(api(), Kind::kNormal, false, true, true, 4, 4, 10000);
}

TEST_P(Condvar, ProducerConsumerEightPlusEightAdaptive) {
  RunProducerConsumer(api(), Kind::kAdaptive, false, false, false, 8, 8, 3000);
}

// Our condvar paired with a process-shared mutex, which parklock passes
// through to glibc: the wait must release and retake it through glibc.
TEST_P(Condvar, ProducerConsumerWithProcessSharedMutex) {
  RunProducerConsumer(api(), Kind::kNormal, true, false, false, 2, 2, 5000);
}

TEST_P(Condvar, ProducerConsumerWithErrorcheckMutex) {
  RunProducerConsumer(api(), Kind::kErrorcheck, false, false, false, 2, 2, 5000);
}

TEST_P(Condvar, ProducerConsumerWithRecursiveMutex) {
  RunProducerConsumer(api(), Kind::kRecursive, false, true, false, 2, 2, 5000);
}

// ---- Wake-all and wake-one -------------------------------------------------

// Rendezvous state for "every waiter is inside cond_wait": waiters count
// themselves in before waiting, under the mutex, so once the coordinator
// holds the mutex and sees them all, they are all blocked in the wait.
struct Rendezvous {
  explicit Rendezvous(const LockApi& api) : m(api, Kind::kNormal), go(api), arrived(api) {}
  TestMutex m;
  TestCond go;
  TestCond arrived;
  int generation = 0;  // guarded by m
  int waiting = 0;     // guarded by m
  int tokens = 0;      // guarded by m
  long errors = 0;     // guarded by m
};

// One broadcast must wake every waiter, round after round.
TEST_P(Condvar, BroadcastWakesAllWaiters) {
  constexpr int kWaiters = 12;
  constexpr int kRounds = 40;
  Rendezvous r(api());
  Watchdog watchdog("BroadcastWakesAllWaiters", std::chrono::seconds(60));
  std::vector<std::thread> waiters;
  for (int w = 0; w < kWaiters; ++w) {
    waiters.emplace_back([&] {
      api().mutex_lock(r.m.get());
      for (int round = 0; round < kRounds; ++round) {
        if (++r.waiting == kWaiters) api().cond_signal(r.arrived.get());
        const int seen = r.generation;
        while (r.generation == seen) {
          if (api().cond_wait(r.go.get(), r.m.get()) != 0) ++r.errors;
        }
      }
      api().mutex_unlock(r.m.get());
    });
  }
  api().mutex_lock(r.m.get());
  for (int round = 0; round < kRounds; ++round) {
    while (r.waiting < kWaiters) EXPECT_EQ(api().cond_wait(r.arrived.get(), r.m.get()), 0);
    r.waiting = 0;
    ++r.generation;
    // Alternate between broadcasting with and without the mutex held.
    if (round % 2 == 0) {
      EXPECT_EQ(api().cond_broadcast(r.go.get()), 0);
    } else {
      api().mutex_unlock(r.m.get());
      EXPECT_EQ(api().cond_broadcast(r.go.get()), 0);
      api().mutex_lock(r.m.get());
    }
  }
  api().mutex_unlock(r.m.get());
  for (auto& t : waiters) t.join();
  EXPECT_EQ(r.errors, 0);
}

// N signals release N waiters: no signal is lost even when they come faster
// than the woken waiters run.
TEST_P(Condvar, EachSignalReleasesOneWaiter) {
  constexpr int kWaiters = 12;
  constexpr int kRounds = 30;
  Rendezvous r(api());
  Watchdog watchdog("EachSignalReleasesOneWaiter", std::chrono::seconds(60));
  for (int round = 0; round < kRounds; ++round) {
    std::vector<std::thread> waiters;
    for (int w = 0; w < kWaiters; ++w) {
      waiters.emplace_back([&] {
        api().mutex_lock(r.m.get());
        if (++r.waiting == kWaiters) api().cond_signal(r.arrived.get());
        while (r.tokens == 0) {
          if (api().cond_wait(r.go.get(), r.m.get()) != 0) ++r.errors;
        }
        --r.tokens;
        api().mutex_unlock(r.m.get());
      });
    }
    api().mutex_lock(r.m.get());
    while (r.waiting < kWaiters) EXPECT_EQ(api().cond_wait(r.arrived.get(), r.m.get()), 0);
    r.waiting = 0;
    api().mutex_unlock(r.m.get());
    for (int w = 0; w < kWaiters; ++w) {
      api().mutex_lock(r.m.get());
      ++r.tokens;
      EXPECT_EQ(api().cond_signal(r.go.get()), 0);
      api().mutex_unlock(r.m.get());
    }
    for (auto& t : waiters) t.join();
    EXPECT_EQ(r.tokens, 0);
  }
  EXPECT_EQ(r.errors, 0);
}

TEST_P(Condvar, SignalAndBroadcastWithoutWaitersAreNoOps) {
  TestCond c(api());
  EXPECT_EQ(api().cond_signal(c.get()), 0);
  EXPECT_EQ(api().cond_broadcast(c.get()), 0);
  // And they leave nothing behind: a later wait still times out.
  TestMutex m(api(), Kind::kNormal);
  api().mutex_lock(m.get());
  const timespec at = DeadlineIn(CLOCK_REALTIME, 10 * kMs);
  int rc;
  while ((rc = api().cond_timedwait(c.get(), m.get(), &at)) == 0) {
  }
  EXPECT_EQ(rc, ETIMEDOUT);
  api().mutex_unlock(m.get());
}

// ---- Timed waits -----------------------------------------------------------

// With the mutex held by the caller (an errorcheck mutex, so ownership is
// checkable): another thread cannot take it, and the caller can unlock it.
void ExpectHeldByCaller(const LockApi& api, pthread_mutex_t* m) {
  EXPECT_EQ(OnOtherThread([&] { return api.mutex_trylock(m); }), EBUSY);
  EXPECT_EQ(api.mutex_unlock(m), 0);
}

enum class WaitCall { kTimedwait, kClockwait };

struct TimedCase {
  const char* name;
  clockid_t cond_clock;   // condattr_setclock
  WaitCall call;
  clockid_t wait_clock;   // clock of the deadline
};

constexpr TimedCase kTimedCases[] = {
    {"timedwait on a realtime condvar", CLOCK_REALTIME, WaitCall::kTimedwait, CLOCK_REALTIME},
    {"timedwait on a monotonic condvar", CLOCK_MONOTONIC, WaitCall::kTimedwait, CLOCK_MONOTONIC},
    {"clockwait realtime", CLOCK_REALTIME, WaitCall::kClockwait, CLOCK_REALTIME},
    {"clockwait monotonic on a realtime condvar", CLOCK_REALTIME, WaitCall::kClockwait,
     CLOCK_MONOTONIC},
    {"clockwait realtime on a monotonic condvar", CLOCK_MONOTONIC, WaitCall::kClockwait,
     CLOCK_REALTIME},
};

int TimedWait(const LockApi& api, const TimedCase& tc, pthread_cond_t* c, pthread_mutex_t* m,
              const timespec* at) {
  return tc.call == WaitCall::kTimedwait ? api.cond_timedwait(c, m, at)
                                         : api.cond_clockwait(c, m, tc.wait_clock, at);
}

TEST_P(Condvar, TimedWaitTimesOutAtTheDeadlineHoldingTheMutex) {
  for (const TimedCase& tc : kTimedCases) {
    SCOPED_TRACE(tc.name);
    TestCond c(api(), tc.cond_clock);
    TestMutex m(api(), Kind::kErrorcheck);
    ASSERT_EQ(api().mutex_lock(m.get()), 0);
    const timespec at = DeadlineIn(tc.wait_clock, 50 * kMs);
    int rc;
    // POSIX allows spurious wake-ups (return 0): wait again until the deadline.
    while ((rc = TimedWait(api(), tc, c.get(), m.get(), &at)) == 0) {
    }
    const int64_t now = NowNs(tc.wait_clock);
    EXPECT_EQ(rc, ETIMEDOUT);
    EXPECT_GE(now, ToNs(at));
    EXPECT_LT(now, ToNs(at) + 5 * kSec);
    ExpectHeldByCaller(api(), m.get());
  }
}

TEST_P(Condvar, PastDeadlineTimesOutHoldingTheMutex) {
  for (const TimedCase& tc : kTimedCases) {
    SCOPED_TRACE(tc.name);
    TestCond c(api(), tc.cond_clock);
    TestMutex m(api(), Kind::kErrorcheck);
    for (const timespec at : {DeadlineIn(tc.wait_clock, -kSec), timespec{0, 0}, timespec{-1, 0}}) {
      SCOPED_TRACE(at.tv_sec);
      ASSERT_EQ(api().mutex_lock(m.get()), 0);
      EXPECT_EQ(TimedWait(api(), tc, c.get(), m.get(), &at), ETIMEDOUT);
      ExpectHeldByCaller(api(), m.get());
    }
  }
}

// A bad tv_nsec is rejected before anything happens: the mutex was never
// released.
TEST_P(Condvar, BadNsecIsEinvalAndKeepsTheMutex) {
  for (const TimedCase& tc : kTimedCases) {
    SCOPED_TRACE(tc.name);
    TestCond c(api(), tc.cond_clock);
    TestMutex m(api(), Kind::kErrorcheck);
    for (long nsec : {-1L, 1'000'000'000L}) {
      SCOPED_TRACE(nsec);
      ASSERT_EQ(api().mutex_lock(m.get()), 0);
      const timespec at = {DeadlineIn(tc.wait_clock, 10 * kSec).tv_sec, nsec};
      EXPECT_EQ(TimedWait(api(), tc, c.get(), m.get(), &at), EINVAL);
      ExpectHeldByCaller(api(), m.get());
    }
  }
}

TEST_P(Condvar, ClockwaitWithUnsupportedClockIsEinval) {
  TestCond c(api());
  TestMutex m(api(), Kind::kErrorcheck);
  for (clockid_t clock : {CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID, CLOCK_MONOTONIC_RAW,
                          CLOCK_BOOTTIME}) {
    SCOPED_TRACE(clock);
    ASSERT_EQ(api().mutex_lock(m.get()), 0);
    const timespec at = DeadlineIn(CLOCK_MONOTONIC, 10 * kSec);
    EXPECT_EQ(api().cond_clockwait(c.get(), m.get(), clock, &at), EINVAL);
    ExpectHeldByCaller(api(), m.get());
  }
}

// glibc's wait releases the mutex through the mutex's own unlock, so waiting
// on an errorcheck mutex one does not own fails with its EPERM.
TEST_P(Condvar, WaitWithUnownedErrorcheckMutexIsEperm) {
  TestCond c(api());
  TestMutex m(api(), Kind::kErrorcheck);
  const timespec at = DeadlineIn(CLOCK_REALTIME, 10 * kSec);
  EXPECT_EQ(api().cond_timedwait(c.get(), m.get(), &at), EPERM);
  Holder holder(api(), m.get());
  ASSERT_EQ(holder.lock_result(), 0);
  EXPECT_EQ(api().cond_timedwait(c.get(), m.get(), &at), EPERM);
  EXPECT_EQ(holder.Release(), 0);
}

// ---- Mutex kinds paired with a condvar --------------------------------------

// A waiter on `m` (locked once) is signalled by a thread that must be able to
// take `m` meanwhile; afterwards the waiter holds `m` exactly once again.
void WaitOnceAndCheckOwnership(const LockApi& api, Kind kind) {
  TestMutex m(api, kind);
  TestCond c(api);
  bool ready = false;  // guarded by m
  Watchdog watchdog(std::string("wait with a ") + KindName(kind) + " mutex",
                    std::chrono::seconds(60));
  ASSERT_EQ(api.mutex_lock(m.get()), 0);
  std::thread signaller([&] {
    api.mutex_lock(m.get());
    ready = true;
    api.cond_signal(c.get());
    api.mutex_unlock(m.get());
  });
  int rc = 0;
  while (!ready && rc == 0) rc = api.cond_wait(c.get(), m.get());
  EXPECT_EQ(rc, 0);
  if (kind == Kind::kRecursive) {
    EXPECT_EQ(m.get()->__data.__count, 1u);
    EXPECT_EQ(api.mutex_lock(m.get()), 0);
    EXPECT_EQ(api.mutex_unlock(m.get()), 0);
  } else {
    EXPECT_EQ(api.mutex_lock(m.get()), EDEADLK);
  }
  EXPECT_EQ(OnOtherThread([&] { return api.mutex_trylock(m.get()); }), EBUSY);
  EXPECT_EQ(api.mutex_unlock(m.get()), 0);
  EXPECT_EQ(api.mutex_unlock(m.get()), EPERM);
  signaller.join();
}

TEST_P(Condvar, WaitWithRecursiveMutex) { WaitOnceAndCheckOwnership(api(), Kind::kRecursive); }

TEST_P(Condvar, WaitWithErrorcheckMutex) { WaitOnceAndCheckOwnership(api(), Kind::kErrorcheck); }

// Our condvar's timed wait with a glibc (process-shared) mutex: times out and
// hands the mutex back.
TEST_P(Condvar, TimedWaitWithProcessSharedMutex) {
  TestMutex m(api(), Kind::kErrorcheck, /*process_shared=*/true);
  ASSERT_EQ(m.init_result(), 0);
  TestCond c(api(), CLOCK_MONOTONIC);
  ASSERT_EQ(api().mutex_lock(m.get()), 0);
  const timespec at = DeadlineIn(CLOCK_MONOTONIC, 20 * kMs);
  int rc;
  while ((rc = api().cond_timedwait(c.get(), m.get(), &at)) == 0) {
  }
  EXPECT_EQ(rc, ETIMEDOUT);
  EXPECT_GE(NowNs(CLOCK_MONOTONIC), ToNs(at));
  ExpectHeldByCaller(api(), m.get());
}

// ---- Rebinding and cancellation -------------------------------------------

// A condvar's binding to a mutex ends when its waiters have returned; it may
// then be used with another mutex, and a broadcast must wake those waiters.
TEST_P(Condvar, ReusedWithAnotherMutexAfterAllWaitersLeft) {
  constexpr int kWaiters = 6;
  TestCond c(api());
  Watchdog watchdog("ReusedWithAnotherMutexAfterAllWaitersLeft", std::chrono::seconds(60));
  for (int phase = 0; phase < 4; ++phase) {
    SCOPED_TRACE(phase);
    TestMutex m(api(), phase % 2 ? Kind::kErrorcheck : Kind::kNormal);
    TestCond arrived(api());
    int waiting = 0;     // guarded by m
    bool go = false;     // guarded by m
    std::vector<std::thread> waiters;
    for (int w = 0; w < kWaiters; ++w) {
      waiters.emplace_back([&] {
        api().mutex_lock(m.get());
        if (++waiting == kWaiters) api().cond_signal(arrived.get());
        while (!go) api().cond_wait(c.get(), m.get());
        api().mutex_unlock(m.get());
      });
    }
    api().mutex_lock(m.get());
    while (waiting < kWaiters) api().cond_wait(arrived.get(), m.get());
    go = true;
    EXPECT_EQ(api().cond_broadcast(c.get()), 0);
    api().mutex_unlock(m.get());
    for (auto& t : waiters) t.join();
  }
}

// pthread_cond_wait and pthread_cond_timedwait are cancellation points: a
// thread cancelled while blocked in one re-acquires the mutex, then runs its
// cleanup handlers (which here unlock it: 0 proves it was held, since the
// mutex is an errorcheck one) and ends with PTHREAD_CANCELED.
struct CancelTarget {
  const LockApi* api;
  pthread_mutex_t* m;
  pthread_cond_t* c;
  bool timed;
  bool waiting = false;  // guarded by m
  bool release = false;  // guarded by m
  int cleanup_unlock = -1;
};

void UnlockInCleanup(void* arg) {
  auto* t = static_cast<CancelTarget*>(arg);
  t->cleanup_unlock = t->api->mutex_unlock(t->m);
}

void* WaitUntilCancelled(void* arg) {
  auto* t = static_cast<CancelTarget*>(arg);
  t->api->mutex_lock(t->m);
  pthread_cleanup_push(UnlockInCleanup, t);
  t->waiting = true;
  while (!t->release) {
    if (t->timed) {
      const timespec at = DeadlineIn(CLOCK_REALTIME, 60 * kSec);
      t->api->cond_timedwait(t->c, t->m, &at);
    } else {
      t->api->cond_wait(t->c, t->m);
    }
  }
  pthread_cleanup_pop(0);
  t->api->mutex_unlock(t->m);
  return nullptr;
}

void ExpectWaitIsACancellationPoint(const LockApi& api, bool timed) {
  TestMutex m(api, Kind::kErrorcheck);
  TestCond c(api);
  CancelTarget target{&api, m.get(), c.get(), timed};
  pthread_t thread;
  ASSERT_EQ(pthread_create(&thread, nullptr, WaitUntilCancelled, &target), 0);
  // Once `waiting` is seen under the mutex, the target is inside the wait.
  for (bool in_wait = false; !in_wait;) {
    api.mutex_lock(m.get());
    in_wait = target.waiting;
    api.mutex_unlock(m.get());
    if (!in_wait) std::this_thread::yield();
  }
  ASSERT_EQ(pthread_cancel(thread), 0);
  void* result = nullptr;
  const timespec limit = DeadlineIn(CLOCK_REALTIME, 10 * kSec);
  int join = pthread_timedjoin_np(thread, &result, &limit);
  if (join == ETIMEDOUT) {
    ADD_FAILURE() << "the cancelled thread stayed blocked in the wait for 10 s";
    // Let it out so the test can end.
    api.mutex_lock(m.get());
    target.release = true;
    api.cond_broadcast(c.get());
    api.mutex_unlock(m.get());
    join = pthread_join(thread, &result);
  }
  EXPECT_EQ(join, 0);
  EXPECT_EQ(result, PTHREAD_CANCELED);
  EXPECT_EQ(target.cleanup_unlock, 0) << "the cleanup handler ran without the mutex held";
}

TEST_P(Condvar, WaitIsACancellationPoint) { ExpectWaitIsACancellationPoint(api(), false); }

TEST_P(Condvar, TimedwaitIsACancellationPoint) { ExpectWaitIsACancellationPoint(api(), true); }

INSTANTIATE_TEST_SUITE_P(Backends, Condvar, AllBackends(), BackendName);

}  // namespace
}  // namespace parklock_test
