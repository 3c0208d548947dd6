// Signal handlers and lock waits: a handler that jumps out of a blocked lock
// call (siglongjmp). POSIX leaves it undefined; glibc copes, and nothing a
// thread does that way may hang the other threads.
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <thread>

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

// The thread that jumped out exits; a new one (likely on the same stack and
// TLS) waits for the mutex, and the holder's unlock wakes it.
TEST_P(SignalsAndWaits, SiglongjmpOutOfALockWaitThenTheThreadExits) {
  Watchdog watchdog("SiglongjmpOutOfALockWaitThenTheThreadExits", std::chrono::seconds(60));
  EscapeHandler handler;
  TestMutex m(api(), Kind::kNormal);
  ASSERT_EQ(api().mutex_lock(m.get()), 0);
  ASSERT_TRUE(JumpOutOfALockWait(api(), m.get(), [] {}));
  std::atomic<pid_t> tid{0};
  std::atomic<bool> got_it{false};
  std::thread next([&] {
    tid = gettid();
    api().mutex_lock(m.get());
    got_it = true;
    api().mutex_unlock(m.get());
  });
  while (tid.load() == 0) std::this_thread::yield();
  wait_until_sleeping(tid.load(), 20);
  EXPECT_EQ(api().mutex_unlock(m.get()), 0);
  next.join();
  EXPECT_TRUE(got_it.load());
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

INSTANTIATE_TEST_SUITE_P(Backends, SignalsAndWaits, AllBackends(), BackendName);

}  // namespace
}  // namespace parklock_test
