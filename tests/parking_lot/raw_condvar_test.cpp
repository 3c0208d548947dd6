// RawCondvar on RawMutex (and on glibc's mutex), and the pthread layer above
// them: signal's and broadcast's requeue onto held and free mutexes, a
// requeued waiter whose deadline passes (or that is cancelled) on the mutex
// queue, kNoRequeue with two mutexes, and a stress grid after which both
// words are 0 again.
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "cond_ops.h"
#include "mutex_ops.h"
#include "raw_condvar.h"
#include "raw_mutex.h"
#include "test_util.h"

namespace parking_lot_test {
namespace {

using namespace std::chrono_literals;
using parklock::RawCondvar;
using parklock::RawMutex;

int WordOf(RawMutex::Word& w) { return std::atomic_ref<int>(w).load(std::memory_order_acquire); }
RawCondvar::Word WordOf(RawCondvar::Word& w) {
  return std::atomic_ref<RawCondvar::Word>(w).load(std::memory_order_acquire);
}

// A condvar and the RawMutex its waiters hold, as cond_ops pairs them.
struct CvAndMutex {
  RawCondvar::Word cv = 0;
  RawMutex::Word mutex = 0;

  struct Outcome {
    bool notified;  // false: timed out
    bool handed;    // woken on the mutex queue with the mutex handed over
  };
  // With the mutex held: waits, then holds the mutex again.
  Outcome Wait(const Deadline& deadline = Deadline::forever()) {
    bool handed = false;
    bool notified = RawCondvar::wait(cv, &cv,
                                     {&mutex, [this] { RawMutex::unlock(mutex); },
                                      [&](bool already_held) {
                                        handed = already_held;
                                        if (!already_held) RawMutex::lock(mutex);
                                      }},
                                     deadline);
    return {notified, handed};
  }
  // `holding`: the caller holds the mutex (cond_ops asks mutex_ops::held_by_caller).
  void NotifyAll(bool holding) {
    RawCondvar::notify_all(cv, &cv, [&](const RawMutex::Word& w) { return holding && &w == &mutex; });
  }
  void NotifyOne() { RawCondvar::notify_one(cv, &cv); }
};

// Starts `n` threads that each wait once and count themselves out.
struct Waiters {
  std::vector<std::thread> threads;
  std::atomic<int> returned{0}, handed{0}, timed_out{0};

  void Start(CvAndMutex& cm, int n) {
    for (int i = 0; i < n; ++i) {
      threads.emplace_back([&] {
        RawMutex::lock(cm.mutex);
        CvAndMutex::Outcome r = cm.Wait();
        if (r.handed) handed.fetch_add(1);
        if (!r.notified) timed_out.fetch_add(1);
        returned.fetch_add(1);
        RawMutex::unlock(cm.mutex);
      });
    }
  }
  void Join() {
    for (auto& t : threads) t.join();
  }
};

// With the mutex held by the notifier, broadcast moves every waiter onto the
// mutex queue and wakes none; each unlock then lets one through.
TEST(RawCondvar, BroadcastWithMutexHeldRequeuesEveryone) {
  Watchdog dog("BroadcastWithMutexHeldRequeuesEveryone", 60s);
  CvAndMutex cm;
  Waiters w;
  w.Start(cm, 5);
  ASSERT_TRUE(WaitUntil([&] { return QueuedOn(&cm.cv) == 5; }));
  EXPECT_EQ(WordOf(cm.cv), RawCondvar::Word(reinterpret_cast<uintptr_t>(&cm.mutex)));
  RawMutex::lock(cm.mutex);
  cm.NotifyAll(true);
  EXPECT_EQ(QueuedOn(&cm.cv), 0u);
  EXPECT_EQ(QueuedOn(&cm.mutex), 5u);
  EXPECT_EQ(WordOf(cm.cv), 0u);
  EXPECT_EQ(WordOf(cm.mutex), RawMutex::kLocked | RawMutex::kParked);
  EXPECT_EQ(w.returned.load(), 0);
  RawMutex::unlock(cm.mutex);
  w.Join();
  EXPECT_EQ(w.returned.load(), 5);
  EXPECT_EQ(w.timed_out.load(), 0);
  EXPECT_EQ(WordOf(cm.mutex), 0);
  EXPECT_EQ(WordOf(cm.cv), 0u);
}

// With the mutex free, broadcast wakes one and requeues the rest, marking
// the mutex so that its unlocks wake them.
TEST(RawCondvar, BroadcastWithMutexFreeWakesOneRequeuesRest) {
  Watchdog dog("BroadcastWithMutexFreeWakesOneRequeuesRest", 60s);
  CvAndMutex cm;
  Waiters w;
  w.Start(cm, 5);
  ASSERT_TRUE(WaitUntil([&] { return QueuedOn(&cm.cv) == 5; }));
  ASSERT_TRUE(WaitUntil([&] { return WordOf(cm.mutex) == 0; }));
  cm.NotifyAll(false);
  EXPECT_EQ(QueuedOn(&cm.cv), 0u);
  w.Join();
  EXPECT_EQ(w.returned.load(), 5);
  EXPECT_EQ(WordOf(cm.mutex), 0);
  EXPECT_EQ(WordOf(cm.cv), 0u);
}

// A waiter requeued onto the mutex queue whose deadline passes there: it was
// notified (wait returns true, not a time-out), it leaves the mutex queue,
// and as the last one there it clears the mutex's kParked; with a plain
// lock() waiter still on the mutex queue it must leave kParked alone.
TEST(RawCondvar, RequeuedWaiterTimesOutOnTheMutexQueue) {
  Watchdog dog("RequeuedWaiterTimesOutOnTheMutexQueue", 60s);
  for (bool other_mutex_waiter : {false, true}) {
    SCOPED_TRACE(other_mutex_waiter ? "a lock() waiter also queued" : "alone");
    CvAndMutex cm;
    std::atomic<bool> left_queue{false}, relock{false}, notified{false};
    std::thread waiter([&] {
      RawMutex::lock(cm.mutex);
      timespec at = In(CLOCK_MONOTONIC, 100 * kMs);
      notified = RawCondvar::wait(cm.cv, &cm.cv,
                                  {&cm.mutex, [&] { RawMutex::unlock(cm.mutex); },
                                   [&](bool already_held) {
                                     EXPECT_FALSE(already_held);
                                     left_queue.store(true);
                                     while (!relock.load()) sched_yield();
                                     RawMutex::lock(cm.mutex);
                                   }},
                                  Deadline::on(CLOCK_MONOTONIC, &at));
      RawMutex::unlock(cm.mutex);
    });
    ASSERT_TRUE(WaitUntil([&] { return QueuedOn(&cm.cv) == 1; }));
    RawMutex::lock(cm.mutex);
    std::thread plain;
    if (other_mutex_waiter) {
      plain = std::thread([&] {
        RawMutex::lock(cm.mutex);
        RawMutex::unlock(cm.mutex);
      });
      ASSERT_TRUE(WaitUntil([&] { return QueuedOn(&cm.mutex) == 1; }));
    }
    cm.NotifyAll(true);
    EXPECT_EQ(QueuedOn(&cm.cv), 0u);
    EXPECT_EQ(WordOf(cm.cv), 0u);
    EXPECT_EQ(QueuedOn(&cm.mutex), other_mutex_waiter ? 2u : 1u);
    // Hold the mutex until the requeued waiter's deadline has passed.
    ASSERT_TRUE(WaitUntil([&] { return left_queue.load(); }));
    EXPECT_EQ(QueuedOn(&cm.mutex), other_mutex_waiter ? 1u : 0u);
    EXPECT_EQ(WordOf(cm.mutex), other_mutex_waiter ? RawMutex::kLocked | RawMutex::kParked : RawMutex::kLocked);
    relock.store(true);
    ASSERT_TRUE(WaitUntil([&] { return QueuedOn(&cm.mutex) == (other_mutex_waiter ? 2u : 1u); }));
    RawMutex::unlock(cm.mutex);
    waiter.join();
    if (plain.joinable()) plain.join();
    EXPECT_TRUE(notified.load());
    EXPECT_EQ(WordOf(cm.mutex), 0);
    EXPECT_EQ(QueuedOn(&cm.mutex), 0u);
  }
}

// Signal wakes exactly one waiter, the first, even with the mutex held (no
// wait morphing: see raw_condvar.cpp); the woken waiter then waits for the
// mutex like any locker.
TEST(RawCondvar, SignalWakesTheFirstWaiterEvenWithTheMutexHeld) {
  Watchdog dog("SignalWakesTheFirstWaiterEvenWithTheMutexHeld", 60s);
  CvAndMutex cm;
  Waiters w;
  w.Start(cm, 3);
  ASSERT_TRUE(WaitUntil([&] { return QueuedOn(&cm.cv) == 3; }));
  RawMutex::lock(cm.mutex);
  cm.NotifyOne();
  EXPECT_EQ(QueuedOn(&cm.cv), 2u);
  EXPECT_NE(WordOf(cm.cv), 0u);
  // The woken waiter spins, then parks on the held mutex.
  ASSERT_TRUE(WaitUntil([&] { return QueuedOn(&cm.mutex) == 1; }));
  EXPECT_EQ(WordOf(cm.mutex), RawMutex::kLocked | RawMutex::kParked);
  RawMutex::unlock(cm.mutex);
  ASSERT_TRUE(WaitUntil([&] { return w.returned.load() == 1; }));
  ASSERT_TRUE(WaitUntil([&] { return WordOf(cm.mutex) == 0; }));
  cm.NotifyOne();  // mutex free
  ASSERT_TRUE(WaitUntil([&] { return w.returned.load() == 2; }));
  EXPECT_EQ(QueuedOn(&cm.cv), 1u);
  RawMutex::lock(cm.mutex);
  cm.NotifyOne();
  EXPECT_EQ(WordOf(cm.cv), 0u);  // the last waiter left the condvar queue
  RawMutex::unlock(cm.mutex);
  w.Join();
  EXPECT_EQ(w.returned.load(), 3);
  EXPECT_EQ(WordOf(cm.mutex), 0);
}

// Waiters holding two different mutexes on one condvar: the word says
// kNoRequeue and broadcast wakes everyone directly (no mutex queue).
TEST(RawCondvar, TwoMutexesOnOneCondvarAreNeverRequeued) {
  Watchdog dog("TwoMutexesOnOneCondvarAreNeverRequeued", 60s);
  RawCondvar::Word cv = 0;
  RawMutex::Word m[2] = {0, 0};
  std::atomic<int> returned{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      RawMutex::Word& mine = m[i % 2];
      RawMutex::lock(mine);
      bool handed = true;
      EXPECT_TRUE(RawCondvar::wait(cv, &cv,
                                   {&mine, [&] { RawMutex::unlock(mine); },
                                    [&](bool already_held) {
                                      handed = already_held;
                                      RawMutex::lock(mine);
                                    }},
                                   Deadline::forever()));
      EXPECT_FALSE(handed) << "woken through a mutex queue";
      returned.fetch_add(1);
      RawMutex::unlock(mine);
    });
  }
  ASSERT_TRUE(WaitUntil([&] { return QueuedOn(&cv) == 4; }));
  EXPECT_EQ(WordOf(cv), RawCondvar::kNoRequeue);
  // Both mutexes held: a requeue would park the waiters on them.
  RawMutex::lock(m[0]);
  RawMutex::lock(m[1]);
  RawCondvar::notify_all(cv, &cv, [](const RawMutex::Word&) { return true; });
  EXPECT_EQ(QueuedOn(&cv), 0u);
  EXPECT_EQ(WordOf(cv), 0u);
  RawMutex::unlock(m[0]);
  RawMutex::unlock(m[1]);
  for (auto& t : threads) t.join();
  EXPECT_EQ(returned.load(), 4);
  EXPECT_EQ(WordOf(m[0]), 0);
  EXPECT_EQ(WordOf(m[1]), 0);
}

// A waiter that joins with a second mutex while broadcast is choosing its
// op: the broadcast must fall back to waking everyone (no waiter may be
// requeued onto a mutex it does not hold, none may be left behind).
TEST(RawCondvar, MixedMutexesRacingBroadcast) {
  Watchdog dog("MixedMutexesRacingBroadcast", 60s);
  constexpr int kRounds = 300;
  for (int round = 0; round < kRounds; ++round) {
    RawCondvar::Word cv = 0;
    RawMutex::Word m[2] = {0, 0};
    std::atomic<int> returned{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
      threads.emplace_back([&, i] {
        RawMutex::Word& mine = m[i % 2];
        RawMutex::lock(mine);
        RawCondvar::wait(cv, &cv,
                         {&mine, [&] { RawMutex::unlock(mine); },
                          [&](bool already_held) {
                            if (!already_held) RawMutex::lock(mine);
                          }},
                         Deadline::forever());
        returned.fetch_add(1);
        RawMutex::unlock(mine);
      });
    }
    // Broadcast until everyone is out; waiters arrive while it runs.
    while (returned.load() < 4) {
      RawCondvar::notify_all(cv, &cv, [](const RawMutex::Word&) { return false; });
      sched_yield();
    }
    for (auto& t : threads) t.join();
    ASSERT_EQ(WordOf(cv), 0u) << "round " << round;
    ASSERT_EQ(WordOf(m[0]), 0) << "round " << round;
    ASSERT_EQ(WordOf(m[1]), 0) << "round " << round;
  }
}

// A glibc mutex (not a RawMutex): waiters pass nullptr, the word is
// kNoRequeue, notify_one wakes one and notify_all the rest.
TEST(RawCondvar, GlibcMutexWaitersAreWokenDirectly) {
  Watchdog dog("GlibcMutexWaitersAreWokenDirectly", 60s);
  RawCondvar::Word cv = 0;
  pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
  std::atomic<int> returned{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&] {
      pthread_mutex_lock(&m);
      EXPECT_TRUE(RawCondvar::wait(cv, &cv,
                                   {nullptr, [&] { pthread_mutex_unlock(&m); },
                                    [&](bool already_held) {
                                      EXPECT_FALSE(already_held);
                                      pthread_mutex_lock(&m);
                                    }},
                                   Deadline::forever()));
      returned.fetch_add(1);
      pthread_mutex_unlock(&m);
    });
  }
  ASSERT_TRUE(WaitUntil([&] { return QueuedOn(&cv) == 3; }));
  EXPECT_EQ(WordOf(cv), RawCondvar::kNoRequeue);
  pthread_mutex_lock(&m);
  RawCondvar::notify_one(cv, &cv);
  EXPECT_EQ(QueuedOn(&cv), 2u);
  EXPECT_EQ(WordOf(cv), RawCondvar::kNoRequeue);
  RawCondvar::notify_all(cv, &cv, [](const RawMutex::Word&) { return false; });
  EXPECT_EQ(QueuedOn(&cv), 0u);
  EXPECT_EQ(WordOf(cv), 0u);
  pthread_mutex_unlock(&m);
  for (auto& t : threads) t.join();
  EXPECT_EQ(returned.load(), 3);
}

// Timed waits whose deadline has passed (both clocks, negative seconds): the
// waiter is queued, releases the mutex, leaves with kTimedOut, and the word
// is 0 again.
TEST(RawCondvar, PastDeadlinesTimeOutAndClearTheWord) {
  Watchdog dog("PastDeadlinesTimeOutAndClearTheWord", 60s);
  CvAndMutex cm;
  for (clockid_t clock : {CLOCK_MONOTONIC, CLOCK_REALTIME}) {
    for (timespec at : {timespec{0, 0}, timespec{-1, 0}, In(clock, -1)}) {
      RawMutex::lock(cm.mutex);
      EXPECT_FALSE(cm.Wait(Deadline::on(clock, &at)).notified);
      EXPECT_EQ(WordOf(cm.cv), 0u);
      EXPECT_EQ(WordOf(cm.mutex), RawMutex::kLocked);
      RawMutex::unlock(cm.mutex);
    }
  }
  EXPECT_EQ(WordOf(cm.mutex), 0);
}

struct CvShape {
  int waiters;
  bool broadcast;
  bool timed;
};

std::string CvShapeName(const ::testing::TestParamInfo<CvShape>& info) {
  return std::to_string(info.param.waiters) + "Waiters_" + (info.param.broadcast ? "Broadcast" : "Signal") +
         (info.param.timed ? "_Timed" : "_Untimed");
}

class RawCondvarGrid : public ::testing::TestWithParam<CvShape> {};

// A bounded buffer on two condvars sharing one mutex: consumers wait on
// `not_empty` (some with short deadlines that expire on either queue),
// the producer waits on `not_full`, so both sides park all the time. Every
// token is consumed once; all three words end at 0.
TEST_P(RawCondvarGrid, TokensConsumedOnceThenWordsZero) {
  Watchdog dog("RawCondvarGrid", 60s);
  const CvShape s = GetParam();
  constexpr int kPerConsumer = 1500;
  constexpr long kCapacity = 2;
  CvAndMutex not_empty;
  RawCondvar::Word not_full = 0;
  RawMutex::Word& mutex = not_empty.mutex;
  long available = 0;  // guarded by mutex
  long consumed = 0;   // guarded by mutex
  std::atomic<long> timeouts{0};
  auto wait_not_full = [&] {
    RawCondvar::wait(not_full, &not_full,
                     {&mutex, [&] { RawMutex::unlock(mutex); },
                      [&](bool already_held) {
                        if (!already_held) RawMutex::lock(mutex);
                      }},
                     Deadline::forever());
  };
  std::vector<std::thread> consumers;
  for (int c = 0; c < s.waiters; ++c) {
    consumers.emplace_back([&, c] {
      std::minstd_rand rng(c + 3);
      RawMutex::lock(mutex);
      for (int i = 0; i < kPerConsumer; ++i) {
        while (available == 0) {
          if (s.timed && rng() % 2) {
            timespec at = In(CLOCK_MONOTONIC, int64_t(rng() % 50'000));
            if (!not_empty.Wait(Deadline::on(CLOCK_MONOTONIC, &at)).notified) timeouts.fetch_add(1);
          } else {
            not_empty.Wait();
          }
        }
        --available;
        ++consumed;
        // Signal with the mutex held (the signal moves the producer onto it)
        // or after the unlock, alternately.
        if (i % 2) {
          RawCondvar::notify_one(not_full, &not_full);
        } else {
          RawMutex::unlock(mutex);
          RawCondvar::notify_one(not_full, &not_full);
          RawMutex::lock(mutex);
        }
      }
      RawMutex::unlock(mutex);
    });
  }
  const long total = long(s.waiters) * kPerConsumer;
  std::minstd_rand rng(1);
  for (long produced = 0; produced < total;) {
    RawMutex::lock(mutex);
    while (available >= kCapacity) wait_not_full();
    const long batch = std::min<long>({total - produced, kCapacity - available, long(1 + rng() % 2)});
    available += batch;
    produced += batch;
    const bool notify_inside = rng() % 2;
    if (notify_inside) s.broadcast ? not_empty.NotifyAll(true) : not_empty.NotifyOne();
    RawMutex::unlock(mutex);
    if (!notify_inside) {
      if (s.broadcast) {
        not_empty.NotifyAll(false);
      } else {
        for (long k = 0; k < batch; ++k) not_empty.NotifyOne();
      }
    } else if (!s.broadcast) {
      for (long k = 1; k < batch; ++k) not_empty.NotifyOne();
    }
  }
  for (auto& t : consumers) t.join();
  EXPECT_EQ(consumed, total);
  EXPECT_EQ(available, 0);
  EXPECT_EQ(WordOf(not_empty.cv), 0u);
  EXPECT_EQ(WordOf(not_full), 0u);
  EXPECT_EQ(WordOf(mutex), 0);
  EXPECT_EQ(QueuedOn(&not_empty.cv), 0u);
  EXPECT_EQ(QueuedOn(&not_full), 0u);
  EXPECT_EQ(QueuedOn(&mutex), 0u);
  RecordProperty("timeouts", int(timeouts.load()));
}

INSTANTIATE_TEST_SUITE_P(Shapes, RawCondvarGrid,
                         ::testing::Values(CvShape{1, false, false}, CvShape{4, false, false},
                                           CvShape{4, true, false}, CvShape{8, true, false},
                                           CvShape{4, false, true}, CvShape{4, true, true},
                                           CvShape{8, true, true}),
                         CvShapeName);

// A waiter that broadcast moved onto the held mutex's queue, then cancelled
// there, leaves that queue (clearing kParked if it was the last) and takes the
// mutex back before unwinding; the other moved waiter still gets the mutex.
// (While signal moved waiters too, this is where a cancelled one swallowed
// the signal.)
struct CancelledFirstWaiter {
  CvAndMutex* cm;
  std::atomic<int> reacquires{0};
};

void* WaitUntilCancelled(void* arg) {
  auto* w = static_cast<CancelledFirstWaiter*>(arg);
  RawMutex::lock(w->cm->mutex);
  pthread_cleanup_push([](void* m) { RawMutex::unlock(*static_cast<RawMutex::Word*>(m)); }, &w->cm->mutex);
  for (;;) {
    RawCondvar::wait(w->cm->cv, &w->cm->cv,
                     {&w->cm->mutex, [w] { RawMutex::unlock(w->cm->mutex); },
                      [w](bool already_held) {
                        w->reacquires.fetch_add(1);
                        if (!already_held) RawMutex::lock(w->cm->mutex);
                      }},
                     Deadline::forever());
  }
  pthread_cleanup_pop(1);
  return nullptr;
}

TEST(RawCondvar, WaiterCancelledOnTheMutexQueueAfterBroadcast) {
  Watchdog dog("WaiterCancelledOnTheMutexQueueAfterBroadcast", 60s);
  CvAndMutex cm;
  CancelledFirstWaiter first{&cm};
  pthread_t first_thread;
  ASSERT_EQ(pthread_create(&first_thread, nullptr, WaitUntilCancelled, &first), 0);
  ASSERT_TRUE(WaitUntil([&] { return QueuedOn(&cm.cv) == 1; }));
  std::atomic<int> second_notified{-1};
  std::thread second([&] {
    RawMutex::lock(cm.mutex);
    // Generous: the mutex reaches it within microseconds.
    timespec at = In(CLOCK_MONOTONIC, 3 * kSec);
    second_notified = cm.Wait(Deadline::on(CLOCK_MONOTONIC, &at)).notified;
    RawMutex::unlock(cm.mutex);
  });
  ASSERT_TRUE(WaitUntil([&] { return QueuedOn(&cm.cv) == 2; }));

  RawMutex::lock(cm.mutex);
  cm.NotifyAll(true);  // the mutex is held: both waiters move onto its queue
  ASSERT_EQ(QueuedOn(&cm.mutex), 2u);
  ASSERT_EQ(QueuedOn(&cm.cv), 0u);
  ASSERT_EQ(pthread_cancel(first_thread), 0);
  // Nothing but the cancellation can take the first waiter off the mutex
  // queue while we hold the mutex: once it reacquires, the cancellation has
  // run its course inside the parking lot.
  ASSERT_TRUE(WaitUntil([&] { return first.reacquires.load() == 1; }));
  RawMutex::unlock(cm.mutex);
  void* ret = nullptr;
  ASSERT_EQ(pthread_join(first_thread, &ret), 0);
  EXPECT_EQ(ret, PTHREAD_CANCELED);
  second.join();
  EXPECT_EQ(second_notified.load(), 1) << "the other moved waiter was never woken";
  EXPECT_EQ(WordOf(cm.mutex), 0);
  EXPECT_EQ(WordOf(cm.cv), 0u);
}

// Regression: raw_condvar.cpp binds `on_cancel`, a FunctionRef, to a
// temporary closure (`FunctionRef<...> on_cancel = [&](...) {...};`), which
// dies at the end of that declaration; park() calls it later, when the
// thread is cancelled. The call reads a dead stack object: the test passes
// only while the compiler happens not to reuse that slot. Under
// AddressSanitizer it fails at once (stack-use-after-scope at
// raw_condvar.cpp:13), and a one-line change to the closure's captures was
// enough to make the slot's reuse crash this very test (SIGSEGV jumping
// through the dead closure).
TEST(RawCondvar, CancelWhileParkedCallsOnCancelThroughADeadClosure) {
  Watchdog dog("CancelWhileParkedCallsOnCancelThroughADeadClosure", 60s);
  CvAndMutex cm;
  CancelledFirstWaiter only{&cm};
  pthread_t thread;
  ASSERT_EQ(pthread_create(&thread, nullptr, WaitUntilCancelled, &only), 0);
  ASSERT_TRUE(WaitUntil([&] { return QueuedOn(&cm.cv) == 1; }));
  ASSERT_EQ(pthread_cancel(thread), 0);
  void* ret = nullptr;
  ASSERT_EQ(pthread_join(thread, &ret), 0);
  EXPECT_EQ(ret, PTHREAD_CANCELED);
  EXPECT_EQ(only.reacquires.load(), 1);  // on_cancel ran and took the mutex back
  EXPECT_EQ(QueuedOn(&cm.cv), 0u);
  EXPECT_EQ(WordOf(cm.cv), 0u);
  EXPECT_EQ(WordOf(cm.mutex), 0);  // released by the thread's cleanup handler
}

// The pthread layer: a timed wait that was notified (requeued) and then ran
// out of time on the mutex queue returns 0 holding the mutex, and an
// errorcheck mutex handed over through the requeue still knows its owner.
TEST(CondOps, RequeuedTimedWaitReturnsZeroHoldingAnErrorcheckMutex) {
  Watchdog dog("RequeuedTimedWaitReturnsZeroHoldingAnErrorcheckMutex", 60s);
  namespace mutex_ops = parklock::mutex_ops;
  namespace cond_ops = parklock::cond_ops;
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
  pthread_mutex_t m;
  ASSERT_EQ(mutex_ops::init(&m, &attr), 0);
  pthread_mutexattr_destroy(&attr);
  pthread_cond_t c;
  ASSERT_EQ(cond_ops::init(&c, nullptr), 0);
  std::atomic<int> rc{-1}, relock{-1};
  std::thread waiter([&] {
    EXPECT_EQ(mutex_ops::lock(&m), 0);
    timespec at = In(CLOCK_REALTIME, 80 * kMs);
    rc.store(cond_ops::timedwait(&c, &m, &at));
    relock.store(mutex_ops::lock(&m));  // errorcheck: we hold it, so EDEADLK
    EXPECT_EQ(mutex_ops::unlock(&m), 0);
  });
  ASSERT_TRUE(WaitUntil([&] { return QueuedOn(&c) == 1; }));
  ASSERT_EQ(mutex_ops::lock(&m), 0);
  ASSERT_EQ(cond_ops::broadcast(&c), 0);
  ASSERT_TRUE(WaitUntil([&] { return QueuedOn(&m) == 1; }));
  SleepNs(150 * kMs);  // past the waiter's deadline, while it is on the mutex queue
  ASSERT_EQ(mutex_ops::unlock(&m), 0);
  waiter.join();
  EXPECT_EQ(rc.load(), 0);
  EXPECT_EQ(relock.load(), EDEADLK);
  EXPECT_EQ(m.__data.__lock, 0);
  EXPECT_EQ(mutex_ops::destroy(&m), 0);
}

TEST(CondOps, TimedWaitArgumentChecks) {
  namespace mutex_ops = parklock::mutex_ops;
  namespace cond_ops = parklock::cond_ops;
  pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t c = PTHREAD_COND_INITIALIZER;
  ASSERT_EQ(mutex_ops::lock(&m), 0);
  timespec bad_nsec{0, 1'000'000'000};
  EXPECT_EQ(cond_ops::timedwait(&c, &m, &bad_nsec), EINVAL);
  timespec negative{-1, 0};
  EXPECT_EQ(cond_ops::timedwait(&c, &m, &negative), ETIMEDOUT);
  EXPECT_EQ(cond_ops::clockwait(&c, &m, CLOCK_MONOTONIC, &negative), ETIMEDOUT);
  EXPECT_EQ(cond_ops::clockwait(&c, &m, CLOCK_PROCESS_CPUTIME_ID, &negative), EINVAL);
  timespec past = In(CLOCK_MONOTONIC, -1);
  EXPECT_EQ(cond_ops::clockwait(&c, &m, CLOCK_MONOTONIC, &past), ETIMEDOUT);
  EXPECT_EQ(mutex_ops::unlock(&m), 0);
  EXPECT_EQ(m.__data.__lock, 0);
  EXPECT_EQ(c.__data.__wseq.__value64, 0u);
}

}  // namespace
}  // namespace parking_lot_test
