// Mutex error codes: every case asserts glibc 2.36's answer, for glibc and
// for parklock alike (see lock_api.h).
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <time.h>

#include <initializer_list>

#include <gtest/gtest.h>

#include "lock_api.h"
#include "test_support.h"

namespace parklock_test {
namespace {

class MutexErrors : public ::testing::TestWithParam<const LockApi*> {
 protected:
  const LockApi& api() const { return *GetParam(); }
};

constexpr Kind kKinds[] = {Kind::kNormal, Kind::kRecursive, Kind::kErrorcheck, Kind::kAdaptive};

TEST_P(MutexErrors, TrylockOnLockHeldByAnotherThreadIsEbusy) {
  for (Kind kind : kKinds) {
    SCOPED_TRACE(KindName(kind));
    TestMutex m(api(), kind);
    Holder holder(api(), m.get());
    ASSERT_EQ(holder.lock_result(), 0);
    EXPECT_EQ(api().mutex_trylock(m.get()), EBUSY);
    EXPECT_EQ(holder.Release(), 0);
    EXPECT_EQ(api().mutex_trylock(m.get()), 0);
    EXPECT_EQ(api().mutex_unlock(m.get()), 0);
  }
}

TEST_P(MutexErrors, TrylockOnLockHeldBySelfIsEbusyUnlessRecursive) {
  for (Kind kind : {Kind::kNormal, Kind::kErrorcheck, Kind::kAdaptive}) {
    SCOPED_TRACE(KindName(kind));
    TestMutex m(api(), kind);
    ASSERT_EQ(api().mutex_lock(m.get()), 0);
    EXPECT_EQ(api().mutex_trylock(m.get()), EBUSY);
    EXPECT_EQ(api().mutex_unlock(m.get()), 0);
  }
}

TEST_P(MutexErrors, ErrorcheckRelockIsEdeadlk) {
  TestMutex m(api(), Kind::kErrorcheck);
  ASSERT_EQ(api().mutex_lock(m.get()), 0);
  EXPECT_EQ(api().mutex_lock(m.get()), EDEADLK);
  timespec soon = DeadlineIn(CLOCK_REALTIME, 10 * kSec);
  EXPECT_EQ(api().mutex_timedlock(m.get(), &soon), EDEADLK);
  for (clockid_t clock : {CLOCK_REALTIME, CLOCK_MONOTONIC}) {
    timespec at = DeadlineIn(clock, 10 * kSec);
    EXPECT_EQ(api().mutex_clocklock(m.get(), clock, &at), EDEADLK);
  }
  // glibc looks at the owner before it looks at the deadline.
  timespec bad_nsec = {soon.tv_sec, -1};
  EXPECT_EQ(api().mutex_timedlock(m.get(), &bad_nsec), EDEADLK);
  EXPECT_EQ(api().mutex_unlock(m.get()), 0);
  EXPECT_EQ(api().mutex_unlock(m.get()), EPERM);
}

TEST_P(MutexErrors, ErrorcheckUnlockByNonOwnerIsEperm) {
  TestMutex m(api(), Kind::kErrorcheck);
  Holder holder(api(), m.get());
  ASSERT_EQ(holder.lock_result(), 0);
  EXPECT_EQ(api().mutex_unlock(m.get()), EPERM);
  // The failed unlock left the lock with its owner.
  EXPECT_EQ(api().mutex_trylock(m.get()), EBUSY);
  EXPECT_EQ(holder.Release(), 0);
}

TEST_P(MutexErrors, ErrorcheckUnlockOfUnlockedIsEperm) {
  TestMutex m(api(), Kind::kErrorcheck);
  EXPECT_EQ(api().mutex_unlock(m.get()), EPERM);
  ASSERT_EQ(api().mutex_lock(m.get()), 0);
  EXPECT_EQ(api().mutex_unlock(m.get()), 0);
  EXPECT_EQ(api().mutex_unlock(m.get()), EPERM);
}

TEST_P(MutexErrors, RecursiveUnlockByNonOwnerIsEperm) {
  TestMutex m(api(), Kind::kRecursive);
  Holder holder(api(), m.get());
  ASSERT_EQ(holder.lock_result(), 0);
  EXPECT_EQ(api().mutex_unlock(m.get()), EPERM);
  EXPECT_EQ(api().mutex_trylock(m.get()), EBUSY);
  EXPECT_EQ(holder.Release(), 0);
}

TEST_P(MutexErrors, RecursiveUnlockOfUnlockedIsEperm) {
  TestMutex m(api(), Kind::kRecursive);
  EXPECT_EQ(api().mutex_unlock(m.get()), EPERM);
  ASSERT_EQ(api().mutex_lock(m.get()), 0);
  ASSERT_EQ(api().mutex_lock(m.get()), 0);
  EXPECT_EQ(api().mutex_unlock(m.get()), 0);
  EXPECT_EQ(api().mutex_unlock(m.get()), 0);
  EXPECT_EQ(api().mutex_unlock(m.get()), EPERM);
}

// A deadline that has already passed never blocks: ETIMEDOUT at once,
// whatever the clock, including times before the epoch.
TEST_P(MutexErrors, PastDeadlineOnHeldLockIsEtimedout) {
  for (Kind kind : kKinds) {
    SCOPED_TRACE(KindName(kind));
    TestMutex m(api(), kind);
    ASSERT_EQ(api().mutex_lock(m.get()), 0);
    int results[6];
    OnOtherThread([&] {
      timespec rt_past = DeadlineIn(CLOCK_REALTIME, -kSec);
      timespec mono_past = DeadlineIn(CLOCK_MONOTONIC, -kSec);
      timespec negative = {-1, 0};
      timespec zero = {0, 0};
      results[0] = api().mutex_timedlock(m.get(), &rt_past);
      results[1] = api().mutex_clocklock(m.get(), CLOCK_REALTIME, &rt_past);
      results[2] = api().mutex_clocklock(m.get(), CLOCK_MONOTONIC, &mono_past);
      results[3] = api().mutex_timedlock(m.get(), &negative);
      results[4] = api().mutex_clocklock(m.get(), CLOCK_MONOTONIC, &negative);
      results[5] = api().mutex_timedlock(m.get(), &zero);
      return 0;
    });
    for (int i = 0; i < 6; ++i) EXPECT_EQ(results[i], ETIMEDOUT) << "case " << i;
    EXPECT_EQ(api().mutex_unlock(m.get()), 0);
  }
}

// glibc checks tv_sec < 0 before tv_nsec: {-1, -1} on a held lock times out.
TEST_P(MutexErrors, NegativeSecondsWithBadNsecOnHeldLockIsEtimedout) {
  TestMutex m(api(), Kind::kNormal);
  Holder holder(api(), m.get());
  ASSERT_EQ(holder.lock_result(), 0);
  timespec t = {-1, -1};
  EXPECT_EQ(api().mutex_timedlock(m.get(), &t), ETIMEDOUT);
}

TEST_P(MutexErrors, FutureDeadlineOnHeldLockTimesOutNoEarlierThanDeadline) {
  for (clockid_t clock : {CLOCK_REALTIME, CLOCK_MONOTONIC}) {
    SCOPED_TRACE(clock == CLOCK_REALTIME ? "realtime" : "monotonic");
    TestMutex m(api(), Kind::kNormal);
    Holder holder(api(), m.get());
    ASSERT_EQ(holder.lock_result(), 0);
    const timespec at = DeadlineIn(clock, 50 * kMs);
    const int rc = clock == CLOCK_REALTIME ? api().mutex_timedlock(m.get(), &at)
                                           : api().mutex_clocklock(m.get(), clock, &at);
    const int64_t now = NowNs(clock);
    EXPECT_EQ(rc, ETIMEDOUT);
    EXPECT_GE(now, ToNs(at));
    EXPECT_LT(now, ToNs(at) + 5 * kSec);
  }
}

TEST_P(MutexErrors, TimedlockAcquiresALockReleasedBeforeTheDeadline) {
  for (Kind kind : kKinds) {
    SCOPED_TRACE(KindName(kind));
    TestMutex m(api(), kind);
    ASSERT_EQ(api().mutex_lock(m.get()), 0);
    int lock_rc = -1;
    int unlock_rc = -1;
    std::thread waiter([&] {
      timespec at = DeadlineIn(CLOCK_MONOTONIC, 60 * kSec);
      lock_rc = api().mutex_clocklock(m.get(), CLOCK_MONOTONIC, &at);
      if (lock_rc == 0) unlock_rc = api().mutex_unlock(m.get());
    });
    // A bounded delay so the waiter usually blocks first; either way it must
    // get the lock.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(api().mutex_unlock(m.get()), 0);
    waiter.join();
    EXPECT_EQ(lock_rc, 0);
    EXPECT_EQ(unlock_rc, 0);
  }
}

// When the lock must block, a tv_nsec outside [0, 1e9) is EINVAL.
TEST_P(MutexErrors, BadNsecOnHeldLockIsEinval) {
  for (Kind kind : kKinds) {
    SCOPED_TRACE(KindName(kind));
    TestMutex m(api(), kind);
    Holder holder(api(), m.get());
    ASSERT_EQ(holder.lock_result(), 0);
    const time_t future = DeadlineIn(CLOCK_REALTIME, 10 * kSec).tv_sec;
    const time_t future_mono = DeadlineIn(CLOCK_MONOTONIC, 10 * kSec).tv_sec;
    for (long nsec : {-1L, 1'000'000'000L}) {
      SCOPED_TRACE(nsec);
      timespec rt = {future, nsec};
      timespec mono = {future_mono, nsec};
      EXPECT_EQ(api().mutex_timedlock(m.get(), &rt), EINVAL);
      EXPECT_EQ(api().mutex_clocklock(m.get(), CLOCK_REALTIME, &rt), EINVAL);
      EXPECT_EQ(api().mutex_clocklock(m.get(), CLOCK_MONOTONIC, &mono), EINVAL);
    }
    EXPECT_EQ(holder.Release(), 0);
  }
}

// glibc does not look at the deadline when the lock is free: it succeeds.
TEST_P(MutexErrors, BadNsecOnFreeLockSucceeds) {
  for (Kind kind : kKinds) {
    SCOPED_TRACE(KindName(kind));
    TestMutex m(api(), kind);
    for (long nsec : {-1L, 1'000'000'000L}) {
      SCOPED_TRACE(nsec);
      timespec t = {DeadlineIn(CLOCK_REALTIME, 10 * kSec).tv_sec, nsec};
      EXPECT_EQ(api().mutex_timedlock(m.get(), &t), 0);
      EXPECT_EQ(api().mutex_unlock(m.get()), 0);
      EXPECT_EQ(api().mutex_clocklock(m.get(), CLOCK_MONOTONIC, &t), 0);
      EXPECT_EQ(api().mutex_unlock(m.get()), 0);
    }
  }
}

// Only CLOCK_REALTIME and CLOCK_MONOTONIC: anything else is EINVAL, checked
// before the lock is even tried, and the lock is not taken.
TEST_P(MutexErrors, ClocklockWithUnsupportedClockIsEinval) {
  for (Kind kind : kKinds) {
    SCOPED_TRACE(KindName(kind));
    TestMutex m(api(), kind);
    for (clockid_t clock : {CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID,
                            CLOCK_MONOTONIC_RAW, CLOCK_BOOTTIME}) {
      SCOPED_TRACE(clock);
      timespec at = DeadlineIn(CLOCK_MONOTONIC, 10 * kSec);
      EXPECT_EQ(api().mutex_clocklock(m.get(), clock, &at), EINVAL);
      EXPECT_EQ(OnOtherThread([&] {
                  int rc = api().mutex_trylock(m.get());
                  if (rc == 0) api().mutex_unlock(m.get());
                  return rc;
                }),
                0)
          << "the failed clocklock took the lock";
    }
    Holder holder(api(), m.get());
    ASSERT_EQ(holder.lock_result(), 0);
    timespec at = DeadlineIn(CLOCK_MONOTONIC, 10 * kSec);
    EXPECT_EQ(api().mutex_clocklock(m.get(), CLOCK_PROCESS_CPUTIME_ID, &at), EINVAL);
  }
}

// glibc keeps a recursive mutex's depth in __data.__count and answers EAGAIN
// instead of wrapping it; parklock keeps it in the same field.
TEST_P(MutexErrors, RecursiveOverflowIsEagain) {
  TestMutex m(api(), Kind::kRecursive);
  ASSERT_EQ(api().mutex_lock(m.get()), 0);
  ASSERT_EQ(m.get()->__data.__count, 1u);
  m.get()->__data.__count = UINT_MAX;
  EXPECT_EQ(api().mutex_lock(m.get()), EAGAIN);
  EXPECT_EQ(api().mutex_trylock(m.get()), EAGAIN);
  timespec at = DeadlineIn(CLOCK_REALTIME, 10 * kSec);
  EXPECT_EQ(api().mutex_timedlock(m.get(), &at), EAGAIN);
  EXPECT_EQ(m.get()->__data.__count, UINT_MAX);
  m.get()->__data.__count = 1;
  EXPECT_EQ(api().mutex_unlock(m.get()), 0);
  EXPECT_EQ(api().mutex_unlock(m.get()), EPERM);
}

TEST_P(MutexErrors, RecursiveCountLivesInDataCount) {
  TestMutex m(api(), Kind::kRecursive);
  for (unsigned depth = 1; depth <= 3; ++depth) {
    ASSERT_EQ(api().mutex_lock(m.get()), 0);
    EXPECT_EQ(m.get()->__data.__count, depth);
  }
  for (unsigned depth = 3; depth >= 1; --depth) {
    EXPECT_EQ(api().mutex_unlock(m.get()), 0);
    EXPECT_EQ(m.get()->__data.__count, depth - 1);
  }
}

TEST_P(MutexErrors, DestroyOfLockedMutexIsEbusy) {
  for (Kind kind : kKinds) {
    SCOPED_TRACE(KindName(kind));
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PthreadType(kind));
    pthread_mutex_t m;
    ASSERT_EQ(api().mutex_init(&m, &attr), 0);
    pthread_mutexattr_destroy(&attr);
    ASSERT_EQ(api().mutex_lock(&m), 0);
    EXPECT_EQ(api().mutex_destroy(&m), EBUSY);
    // The failed destroy left a working, still-held mutex.
    EXPECT_EQ(OnOtherThread([&] { return api().mutex_trylock(&m); }), EBUSY);
    EXPECT_EQ(api().mutex_unlock(&m), 0);
    EXPECT_EQ(api().mutex_destroy(&m), 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, MutexErrors, AllBackends(), BackendName);

}  // namespace
}  // namespace parklock_test
