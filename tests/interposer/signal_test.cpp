// Signal handlers and lock waits: a handler that waits on a lock while its
// thread is blocked on another, and one that jumps out of a blocked lock call
// (siglongjmp). POSIX leaves both undefined; glibc copes, and nothing a
// thread does that way may hang the other threads.
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/thread_state.h"
#include "lock_api.h"
#include "test_support.h"

namespace parklock_test {
namespace {

class SignalsAndWaits : public ::testing::TestWithParam<const LockApi*> {
 protected:
  const LockApi& api() const { return *GetParam(); }
};

// ---- A handler that waits while its thread is parked ----------------------

// What the handler locks, and how many handlers have finished.
const LockApi* g_handler_api = nullptr;
pthread_mutex_t* g_handler_mutex = nullptr;
std::atomic<int> g_handlers_done{0};

void LockInHandler(int) {
  g_handler_api->mutex_lock(g_handler_mutex);
  g_handler_api->mutex_unlock(g_handler_mutex);
  g_handlers_done.fetch_add(1);
}

// Installs LockInHandler for SIGUSR2 on `m` while in scope.
class WaitingHandler {
 public:
  WaitingHandler(const LockApi& api, pthread_mutex_t* m) {
    g_handler_api = &api;
    g_handler_mutex = m;
    g_handlers_done = 0;
    struct sigaction sa {};
    sa.sa_handler = LockInHandler;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR2, &sa, &saved_);
  }
  ~WaitingHandler() { sigaction(SIGUSR2, &saved_, nullptr); }

 private:
  struct sigaction saved_ {};
};

// Signals `thread`, whose handler blocks on `handler_mutex` (held by the
// caller), lets the handler wait a while, then lets it finish.
void RunAWaitingHandler(const LockApi& api, pthread_t thread, pthread_mutex_t* handler_mutex) {
  pthread_kill(thread, SIGUSR2);
  while (!HasBlockedLocker(handler_mutex)) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(api.mutex_unlock(handler_mutex), 0);
  while (g_handlers_done.load() == 0) std::this_thread::yield();
}

// Four threads wait on a condvar; one of them runs a handler that waits on a
// mutex meanwhile. A broadcast then releases all four.
TEST_P(SignalsAndWaits, WaitInAHandlerWhileTheThreadWaitsOnACondvar) {
  constexpr int kWaiters = 4;
  Watchdog watchdog("WaitInAHandlerWhileTheThreadWaitsOnACondvar", std::chrono::seconds(60));
  TestMutex handler_mutex(api(), Kind::kNormal);
  WaitingHandler handler(api(), handler_mutex.get());
  TestMutex m(api(), Kind::kNormal);
  TestCond c(api());
  int waiting = 0;  // guarded by m
  bool go = false;  // guarded by m
  std::vector<std::thread> waiters;
  std::vector<pthread_t> handles(kWaiters);
  std::atomic<int> released{0};
  for (int w = 0; w < kWaiters; ++w) {
    waiters.emplace_back([&, w] {
      handles[w] = pthread_self();
      api().mutex_lock(m.get());
      ++waiting;
      while (!go) api().cond_wait(c.get(), m.get());
      api().mutex_unlock(m.get());
      released.fetch_add(1);
    });
  }
  for (bool all = false; !all;) {
    api().mutex_lock(m.get());
    all = waiting == kWaiters;
    api().mutex_unlock(m.get());
    std::this_thread::yield();
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // all asleep
  ASSERT_EQ(api().mutex_lock(handler_mutex.get()), 0);
  RunAWaitingHandler(api(), handles[1], handler_mutex.get());
  api().mutex_lock(m.get());
  go = true;
  EXPECT_EQ(api().cond_broadcast(c.get()), 0);
  api().mutex_unlock(m.get());
  for (auto& t : waiters) t.join();
  EXPECT_EQ(released.load(), kWaiters);
}

// A thread blocked on a mutex runs a handler that waits on another; the
// first mutex's unlock then still reaches the thread.
TEST_P(SignalsAndWaits, WaitInAHandlerWhileTheThreadWaitsOnAMutex) {
  Watchdog watchdog("WaitInAHandlerWhileTheThreadWaitsOnAMutex", std::chrono::seconds(60));
  TestMutex handler_mutex(api(), Kind::kNormal);
  WaitingHandler handler(api(), handler_mutex.get());
  TestMutex m(api(), Kind::kNormal);
  ASSERT_EQ(api().mutex_lock(m.get()), 0);
  std::atomic<bool> got_it{false};
  pthread_t handle;
  std::atomic<pid_t> tid{0};
  std::thread waiter([&] {
    handle = pthread_self();
    tid = gettid();
    api().mutex_lock(m.get());
    got_it = true;
    api().mutex_unlock(m.get());
  });
  while (tid.load() == 0) std::this_thread::yield();
  wait_until_sleeping(tid.load(), 20);
  ASSERT_EQ(api().mutex_lock(handler_mutex.get()), 0);
  RunAWaitingHandler(api(), handle, handler_mutex.get());
  EXPECT_EQ(api().mutex_unlock(m.get()), 0);
  waiter.join();
  EXPECT_TRUE(got_it.load());
}

// ---- siglongjmp out of a blocked lock --------------------------------------

thread_local sigjmp_buf* t_escape = nullptr;

void JumpOut(int) {
  if (t_escape) siglongjmp(*t_escape, 1);
}

// Installs JumpOut for SIGUSR1 while in scope.
class EscapeHandler {
 public:
  EscapeHandler() {
    struct sigaction sa {};
    sa.sa_handler = JumpOut;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, &saved_);
  }
  ~EscapeHandler() { sigaction(SIGUSR1, &saved_, nullptr); }

 private:
  struct sigaction saved_ {};
};

// On a new thread: blocks on `m` (held by the caller) until a signal's
// handler jumps out of the wait; then runs `after` and exits. Returns
// whether the jump happened.
bool JumpOutOfALockWait(const LockApi& api, pthread_mutex_t* m, const std::function<void()>& after) {
  std::atomic<pid_t> tid{0};
  std::atomic<bool> escaped{false};
  pthread_t handle;
  std::thread t([&] {
    handle = pthread_self();
    sigjmp_buf env;
    t_escape = &env;
    tid = gettid();
    if (sigsetjmp(env, 1) == 0) {
      api.mutex_lock(m);  // held by the caller: only the signal gets us out
      api.mutex_unlock(m);
    } else {
      t_escape = nullptr;
      escaped = true;
      after();
    }
  });
  while (tid.load() == 0) std::this_thread::yield();
  const bool slept = wait_until_sleeping(tid.load(), 20);
  pthread_kill(handle, SIGUSR1);
  t.join();
  return slept && escaped.load();
}

// With `m` held by the caller: a new thread locks it and sleeps there for
// `settle_ms`, then the caller unlocks. Returns whether that thread got the
// mutex (a hang is the watchdog's).
bool NextLockerGetsThrough(const LockApi& api, pthread_mutex_t* m, long settle_ms) {
  std::atomic<pid_t> tid{0};
  std::atomic<bool> got_it{false};
  std::thread next([&] {
    tid = gettid();
    api.mutex_lock(m);
    got_it = true;
    api.mutex_unlock(m);
  });
  while (tid.load() == 0) std::this_thread::yield();
  wait_until_sleeping(tid.load(), settle_ms);
  EXPECT_EQ(api.mutex_unlock(m), 0);
  next.join();
  return got_it.load();
}

// The thread that jumped out exits; a new one (likely on the same stack and
// TLS) waits for the mutex, and the holder's unlock wakes it.
TEST_P(SignalsAndWaits, SiglongjmpOutOfALockWaitThenTheThreadExits) {
  Watchdog watchdog("SiglongjmpOutOfALockWaitThenTheThreadExits", std::chrono::seconds(60));
  EscapeHandler handler;
  TestMutex m(api(), Kind::kNormal);
  ASSERT_EQ(api().mutex_lock(m.get()), 0);
  ASSERT_TRUE(JumpOutOfALockWait(api(), m.get(), [] {}));
  EXPECT_TRUE(NextLockerGetsThrough(api(), m.get(), 20));
}

// The thread that jumped out runs on without waiting again, so its
// abandoned wait is still queued, first in line and parked past the
// fairness interval: the unlock hands the mutex to it. The thread behind it
// must still get the mutex (the unclaimed handoff passes on to it).
TEST_P(SignalsAndWaits, SiglongjmpOutOfALockWaitThenTheThreadRunsOn) {
  Watchdog watchdog("SiglongjmpOutOfALockWaitThenTheThreadRunsOn", std::chrono::seconds(60));
  EscapeHandler handler;
  TestMutex m(api(), Kind::kNormal);
  ASSERT_EQ(api().mutex_lock(m.get()), 0);
  std::atomic<bool> jumped{false}, done{false}, escaped{false};
  std::thread jumper([&] {
    escaped = JumpOutOfALockWait(api(), m.get(), [&] {
      jumped = true;
      while (!done.load()) sleep_ms(1);  // running, never in a lock call
    });
  });
  while (!jumped.load()) std::this_thread::yield();
  EXPECT_TRUE(NextLockerGetsThrough(api(), m.get(), 5));  // 5 ms: past the fairness interval
  done = true;
  jumper.join();
  EXPECT_TRUE(escaped.load());
}

// The thread that jumped out waits for the mutex again itself.
TEST_P(SignalsAndWaits, SiglongjmpOutOfALockWaitThenTheThreadWaitsAgain) {
  Watchdog watchdog("SiglongjmpOutOfALockWaitThenTheThreadWaitsAgain", std::chrono::seconds(60));
  EscapeHandler handler;
  TestMutex m(api(), Kind::kNormal);
  ASSERT_EQ(api().mutex_lock(m.get()), 0);
  std::atomic<bool> got_it{false};
  std::thread unlocker;
  ASSERT_TRUE(JumpOutOfALockWait(api(), m.get(), [&] {
    // Unlocked by the main thread once this thread is blocked again.
    const pid_t me = gettid();
    unlocker = std::thread([&, me] {
      wait_until_sleeping(me, 20);
      EXPECT_EQ(api().mutex_unlock(m.get()), 0);
    });
    api().mutex_lock(m.get());
    got_it = true;
    api().mutex_unlock(m.get());
  }));
  unlocker.join();
  EXPECT_TRUE(got_it.load());
}

// More jumps than a thread has records: its next wait polls, and works.
TEST_P(SignalsAndWaits, SiglongjmpOutOfManyLockWaitsThenTheThreadWaitsAgain) {
  constexpr int kJumps = 6;
  Watchdog watchdog("SiglongjmpOutOfManyLockWaitsThenTheThreadWaitsAgain", std::chrono::seconds(60));
  EscapeHandler handler;
  TestMutex m(api(), Kind::kNormal);
  ASSERT_EQ(api().mutex_lock(m.get()), 0);
  std::atomic<pid_t> tid{0};
  std::atomic<int> jumps{0};
  std::atomic<bool> got_it{false};
  pthread_t handle;
  std::thread t([&] {
    handle = pthread_self();
    tid = gettid();
    sigjmp_buf env;
    t_escape = &env;
    sigsetjmp(env, 1);
    if (jumps.load() < kJumps) {
      api().mutex_lock(m.get());  // only the signal gets us out
      return;
    }
    t_escape = nullptr;
    api().mutex_lock(m.get());
    got_it = true;
    api().mutex_unlock(m.get());
  });
  while (tid.load() == 0) std::this_thread::yield();
  for (int j = 0; j < kJumps; ++j) {
    ASSERT_TRUE(wait_until_sleeping(tid.load(), 20));
    jumps.fetch_add(1);
    pthread_kill(handle, SIGUSR1);
    // The thread is back in a wait, or running on to its last one.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  wait_until_sleeping(tid.load(), 20);
  EXPECT_EQ(api().mutex_unlock(m.get()), 0);
  t.join();
  EXPECT_TRUE(got_it.load());
}

INSTANTIATE_TEST_SUITE_P(Backends, SignalsAndWaits, AllBackends(), BackendName);

}  // namespace
}  // namespace parklock_test
