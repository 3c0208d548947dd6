// Mutex kinds, however they were made: pthread_mutexattr_settype, glibc's
// static initializers (the _NP ones only set __kind), or zero-filled memory.
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "lock_api.h"
#include "test_support.h"

namespace parklock_test {
namespace {

class MutexKinds : public ::testing::TestWithParam<const LockApi*> {
 protected:
  const LockApi& api() const { return *GetParam(); }
};

int TrylockFromOtherThread(const LockApi& api, pthread_mutex_t* m) {
  return OnOtherThread([&] {
    int rc = api.mutex_trylock(m);
    if (rc == 0) rc = api.mutex_unlock(m);
    return rc;
  });
}

// Checks the behaviour that tells `kind` apart from the other kinds; leaves
// `m` unlocked.
void ExpectBehavesAs(const LockApi& api, pthread_mutex_t* m, Kind kind) {
  SCOPED_TRACE(KindName(kind));
  ASSERT_EQ(api.mutex_lock(m), 0);
  EXPECT_EQ(TrylockFromOtherThread(api, m), EBUSY);
  switch (kind) {
    case Kind::kNormal:
    case Kind::kAdaptive:
      EXPECT_EQ(api.mutex_trylock(m), EBUSY);
      EXPECT_EQ(api.mutex_unlock(m), 0);
      break;
    case Kind::kRecursive:
      EXPECT_EQ(api.mutex_lock(m), 0);
      EXPECT_EQ(api.mutex_trylock(m), 0);
      EXPECT_EQ(m->__data.__count, 3u);
      EXPECT_EQ(api.mutex_unlock(m), 0);
      EXPECT_EQ(api.mutex_unlock(m), 0);
      EXPECT_EQ(TrylockFromOtherThread(api, m), EBUSY);
      EXPECT_EQ(api.mutex_unlock(m), 0);
      EXPECT_EQ(api.mutex_unlock(m), EPERM);
      break;
    case Kind::kErrorcheck:
      EXPECT_EQ(api.mutex_lock(m), EDEADLK);
      EXPECT_EQ(api.mutex_trylock(m), EBUSY);
      EXPECT_EQ(api.mutex_unlock(m), 0);
      EXPECT_EQ(api.mutex_unlock(m), EPERM);
      break;
  }
  EXPECT_EQ(TrylockFromOtherThread(api, m), 0);
}

pid_t OwnerField(pthread_mutex_t* m) { return std::atomic_ref<int>(m->__data.__owner).load(); }

// glibc records the holder's tid in __owner for every kind (debuggers show
// it), by every way of locking, and clears it on unlock and for a condvar
// wait.
TEST_P(MutexKinds, OwnerFieldNamesTheHolderForEveryKind) {
  for (Kind kind : {Kind::kNormal, Kind::kRecursive, Kind::kErrorcheck, Kind::kAdaptive}) {
    SCOPED_TRACE(KindName(kind));
    TestMutex m(api(), kind);
    TestCond c(api());
    EXPECT_EQ(OwnerField(m.get()), 0);
    const int failures = OnOtherThread([&] {
      const pid_t me = gettid();
      int bad = 0;
      bad += api().mutex_lock(m.get()) != 0 || OwnerField(m.get()) != me;
      bad += api().mutex_unlock(m.get()) != 0 || OwnerField(m.get()) != 0;
      bad += api().mutex_trylock(m.get()) != 0 || OwnerField(m.get()) != me;
      const timespec soon = DeadlineIn(CLOCK_REALTIME, kMs);
      bad += api().cond_timedwait(c.get(), m.get(), &soon) != ETIMEDOUT || OwnerField(m.get()) != me;
      bad += api().mutex_unlock(m.get()) != 0 || OwnerField(m.get()) != 0;
      const timespec later = DeadlineIn(CLOCK_REALTIME, 10 * kSec);
      bad += api().mutex_timedlock(m.get(), &later) != 0 || OwnerField(m.get()) != me;
      bad += api().mutex_unlock(m.get()) != 0 || OwnerField(m.get()) != 0;
      return bad;
    });
    EXPECT_EQ(failures, 0);
  }
}

// While one thread waits on a condvar, the mutex's holder is whoever took it
// meanwhile, and the waiter again once it is back.
TEST_P(MutexKinds, OwnerFieldFollowsTheMutexThroughACondvarWait) {
  TestMutex m(api(), Kind::kNormal);
  TestCond c(api());
  bool waiting = false, done = false;  // guarded by m
  std::atomic<pid_t> waiter_tid{0}, owner_after_wait{0};
  std::thread waiter([&] {
    waiter_tid = gettid();
    api().mutex_lock(m.get());
    waiting = true;
    while (!done) api().cond_wait(c.get(), m.get());
    owner_after_wait = OwnerField(m.get());
    api().mutex_unlock(m.get());
  });
  for (bool in_wait = false; !in_wait;) {
    api().mutex_lock(m.get());
    in_wait = waiting;
    if (!in_wait) api().mutex_unlock(m.get());
    if (!in_wait) std::this_thread::yield();
  }
  EXPECT_EQ(OwnerField(m.get()), gettid());
  done = true;
  api().cond_signal(c.get());
  api().mutex_unlock(m.get());
  waiter.join();
  EXPECT_EQ(owner_after_wait.load(), waiter_tid.load());
  EXPECT_EQ(OwnerField(m.get()), 0);
}

TEST_P(MutexKinds, AttrTypeSelectsKind) {
  for (Kind kind : {Kind::kNormal, Kind::kRecursive, Kind::kErrorcheck, Kind::kAdaptive}) {
    TestMutex m(api(), kind);
    ASSERT_EQ(m.init_result(), 0);
    ExpectBehavesAs(api(), m.get(), kind);
  }
}

TEST_P(MutexKinds, NullAttrIsNormal) {
  pthread_mutex_t m;
  ASSERT_EQ(api().mutex_init(&m, nullptr), 0);
  ExpectBehavesAs(api(), &m, Kind::kNormal);
  EXPECT_EQ(api().mutex_destroy(&m), 0);
}

TEST_P(MutexKinds, RecursiveLockThreeTimesUnlockThreeTimes) {
  TestMutex m(api(), Kind::kRecursive);
  ASSERT_EQ(api().mutex_lock(m.get()), 0);
  ASSERT_EQ(api().mutex_trylock(m.get()), 0);
  timespec at = DeadlineIn(CLOCK_MONOTONIC, 10 * kSec);
  ASSERT_EQ(api().mutex_clocklock(m.get(), CLOCK_MONOTONIC, &at), 0);
  for (int held = 3; held > 0; --held) {
    EXPECT_EQ(TrylockFromOtherThread(api(), m.get()), EBUSY) << "held " << held;
    EXPECT_EQ(api().mutex_unlock(m.get()), 0);
  }
  EXPECT_EQ(TrylockFromOtherThread(api(), m.get()), 0);
  EXPECT_EQ(api().mutex_unlock(m.get()), EPERM);
}

TEST_P(MutexKinds, ReinitAfterDestroyTakesTheNewKind) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutex_t m;
  pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
  ASSERT_EQ(api().mutex_init(&m, &attr), 0);
  ExpectBehavesAs(api(), &m, Kind::kRecursive);
  ASSERT_EQ(api().mutex_destroy(&m), 0);
  pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
  ASSERT_EQ(api().mutex_init(&m, &attr), 0);
  ExpectBehavesAs(api(), &m, Kind::kErrorcheck);
  ASSERT_EQ(api().mutex_destroy(&m), 0);
  pthread_mutexattr_destroy(&attr);
}

TEST_P(MutexKinds, StaticInitializers) {
  pthread_mutex_t normal = PTHREAD_MUTEX_INITIALIZER;
  pthread_mutex_t recursive = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
  pthread_mutex_t errorcheck = PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP;
  pthread_mutex_t adaptive = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;
  ExpectBehavesAs(api(), &normal, Kind::kNormal);
  ExpectBehavesAs(api(), &recursive, Kind::kRecursive);
  ExpectBehavesAs(api(), &errorcheck, Kind::kErrorcheck);
  ExpectBehavesAs(api(), &adaptive, Kind::kAdaptive);
  // Statically initialized mutexes are never destroyed in real programs, but
  // may be: it must succeed on an unlocked one.
  EXPECT_EQ(api().mutex_destroy(&recursive), 0);
}

TEST_P(MutexKinds, ZeroFilledMemoryIsANormalMutex) {
  alignas(pthread_mutex_t) unsigned char storage[sizeof(pthread_mutex_t)];
  memset(storage, 0, sizeof storage);
  auto* m = reinterpret_cast<pthread_mutex_t*>(storage);
  ExpectBehavesAs(api(), m, Kind::kNormal);
  timespec at = DeadlineIn(CLOCK_REALTIME, 10 * kSec);
  EXPECT_EQ(api().mutex_timedlock(m, &at), 0);
  EXPECT_EQ(api().mutex_unlock(m), 0);
}

// One handoff through a statically initialized condvar, then a timed wait
// that must time out on its default clock, CLOCK_REALTIME.
void ExpectCondvarWorks(const LockApi& api, pthread_cond_t* c, pthread_mutex_t* m) {
  bool ready = false;  // guarded by m
  {
    Watchdog watchdog("static condvar handoff", std::chrono::seconds(60));
    std::thread signaller([&] {
      api.mutex_lock(m);
      ready = true;
      api.cond_signal(c);
      api.mutex_unlock(m);
    });
    EXPECT_EQ(api.mutex_lock(m), 0);
    int rc = 0;
    while (!ready && rc == 0) rc = api.cond_wait(c, m);
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(api.mutex_unlock(m), 0);
    signaller.join();
  }
  ASSERT_EQ(api.mutex_lock(m), 0);
  const timespec at = DeadlineIn(CLOCK_REALTIME, 20 * kMs);
  int rc;
  while ((rc = api.cond_timedwait(c, m, &at)) == 0) {
  }
  EXPECT_EQ(rc, ETIMEDOUT);
  EXPECT_GE(NowNs(CLOCK_REALTIME), ToNs(at));
  EXPECT_EQ(api.mutex_unlock(m), 0);
}

TEST_P(MutexKinds, StaticCondInitializer) {
  pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t c = PTHREAD_COND_INITIALIZER;
  ExpectCondvarWorks(api(), &c, &m);
}

TEST_P(MutexKinds, ZeroFilledCondvarAndMutex) {
  alignas(pthread_cond_t) unsigned char cond_storage[sizeof(pthread_cond_t)];
  alignas(pthread_mutex_t) unsigned char mutex_storage[sizeof(pthread_mutex_t)];
  memset(cond_storage, 0, sizeof cond_storage);
  memset(mutex_storage, 0, sizeof mutex_storage);
  ExpectCondvarWorks(api(), reinterpret_cast<pthread_cond_t*>(cond_storage),
                     reinterpret_cast<pthread_mutex_t*>(mutex_storage));
}

INSTANTIATE_TEST_SUITE_P(Backends, MutexKinds, AllBackends(), BackendName);

}  // namespace
}  // namespace parklock_test
