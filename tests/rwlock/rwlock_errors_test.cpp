// Error codes, side by side: every expectation holds for glibc and parklock.
#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "rwlock_api_table.h"

namespace {

class RwErrors : public RwBoth {};
INSTANTIATE_RW_BOTH(RwErrors);

const timespec kPast = {0, 0};
const timespec kNegative = {-1, 0};
const timespec kBadNsec = {0, 1000000000};
const timespec kNegativeNsec = {0, -1};

TEST_P(RwErrors, WriteOwnerGetsEdeadlkForEveryBlockingCall) {
  pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
  ASSERT_EQ(api().wrlock(&rw), 0);
  EXPECT_EQ(api().wrlock(&rw), EDEADLK);
  EXPECT_EQ(api().rdlock(&rw), EDEADLK);
  EXPECT_EQ(api().timedwrlock(&rw, &kPast), EDEADLK);
  EXPECT_EQ(api().timedrdlock(&rw, &kPast), EDEADLK);
  EXPECT_EQ(api().clockwrlock(&rw, CLOCK_MONOTONIC, &kPast), EDEADLK);
  EXPECT_EQ(api().clockrdlock(&rw, CLOCK_MONOTONIC, &kPast), EDEADLK);
  // The try calls do not look at the owner.
  EXPECT_EQ(api().trywrlock(&rw), EBUSY);
  EXPECT_EQ(api().tryrdlock(&rw), EBUSY);
  EXPECT_EQ(api().unlock(&rw), 0);
  EXPECT_EQ(api().destroy(&rw), 0);
}

TEST_P(RwErrors, BadTimeoutIsEinvalEvenWhenTheLockIsFree) {
  pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
  for (const timespec* bad : {&kBadNsec, &kNegativeNsec}) {
    EXPECT_EQ(api().timedrdlock(&rw, bad), EINVAL);
    EXPECT_EQ(api().timedwrlock(&rw, bad), EINVAL);
    EXPECT_EQ(api().clockrdlock(&rw, CLOCK_REALTIME, bad), EINVAL);
    EXPECT_EQ(api().clockwrlock(&rw, CLOCK_MONOTONIC, bad), EINVAL);
  }
  // Checked before the deadlock check too.
  ASSERT_EQ(api().wrlock(&rw), 0);
  EXPECT_EQ(api().timedwrlock(&rw, &kBadNsec), EINVAL);
  EXPECT_EQ(api().timedrdlock(&rw, &kBadNsec), EINVAL);
  ASSERT_EQ(api().unlock(&rw), 0);
  // Nothing was left held.
  EXPECT_EQ(api().trywrlock(&rw), 0);
  EXPECT_EQ(api().unlock(&rw), 0);
}

TEST_P(RwErrors, UnsupportedClockIsEinval) {
  pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
  for (clockid_t clock : {CLOCK_MONOTONIC_RAW, CLOCK_PROCESS_CPUTIME_ID, CLOCK_BOOTTIME, clockid_t(99)}) {
    EXPECT_EQ(api().clockrdlock(&rw, clock, &kPast), EINVAL) << clock;
    EXPECT_EQ(api().clockwrlock(&rw, clock, &kPast), EINVAL) << clock;
  }
  EXPECT_EQ(api().trywrlock(&rw), 0);
  EXPECT_EQ(api().unlock(&rw), 0);
}

TEST_P(RwErrors, ReadersKeepWritersOutWithEbusyAndEtimedout) {
  pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
  ASSERT_EQ(api().rdlock(&rw), 0);
  ASSERT_EQ(api().tryrdlock(&rw), 0);
  EXPECT_EQ(api().trywrlock(&rw), EBUSY);
  EXPECT_EQ(api().timedwrlock(&rw, &kPast), ETIMEDOUT);
  EXPECT_EQ(api().timedwrlock(&rw, &kNegative), ETIMEDOUT);
  EXPECT_EQ(api().clockwrlock(&rw, CLOCK_MONOTONIC, &kPast), ETIMEDOUT);
  EXPECT_EQ(api().unlock(&rw), 0);
  EXPECT_EQ(api().unlock(&rw), 0);
  EXPECT_EQ(api().trywrlock(&rw), 0);
  EXPECT_EQ(api().unlock(&rw), 0);
}

TEST_P(RwErrors, OtherThreadsSeeBusyAndTimeOutWhileAWriterHolds) {
  pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
  ASSERT_EQ(api().wrlock(&rw), 0);
  std::thread([&] {
    EXPECT_EQ(api().tryrdlock(&rw), EBUSY);
    EXPECT_EQ(api().trywrlock(&rw), EBUSY);
    EXPECT_EQ(api().timedrdlock(&rw, &kPast), ETIMEDOUT);
    EXPECT_EQ(api().timedwrlock(&rw, &kPast), ETIMEDOUT);
    EXPECT_EQ(api().clockrdlock(&rw, CLOCK_REALTIME, &kNegative), ETIMEDOUT);
  }).join();
  // The failed attempts left the lock as it was: still ours.
  EXPECT_EQ(api().wrlock(&rw), EDEADLK);
  EXPECT_EQ(api().unlock(&rw), 0);
  EXPECT_EQ(api().trywrlock(&rw), 0);
  EXPECT_EQ(api().unlock(&rw), 0);
}

TEST_P(RwErrors, ReaderCountOverflowIsEagain) {
  pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
  long held = 0;
  int err = 0;
  // Both libraries allow 2^28 - 1 or more readers; stop at EAGAIN.
  while ((err = api().tryrdlock(&rw)) == 0) ++held;
  EXPECT_EQ(err, EAGAIN);
  EXPECT_GE(held, (1L << 28) - 1);
  EXPECT_EQ(api().rdlock(&rw), EAGAIN);
  EXPECT_EQ(api().timedrdlock(&rw, &kPast), EAGAIN);
  ASSERT_EQ(api().unlock(&rw), 0);
  EXPECT_EQ(api().rdlock(&rw), 0);
  for (long i = 0; i < held; ++i) ASSERT_EQ(api().unlock(&rw), 0);
  EXPECT_EQ(api().trywrlock(&rw), 0);
  EXPECT_EQ(api().unlock(&rw), 0);
}

TEST_P(RwErrors, InitAndDestroySucceedForEveryKind) {
  for (int kind : {PTHREAD_RWLOCK_PREFER_READER_NP, PTHREAD_RWLOCK_PREFER_WRITER_NP,
                   PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP}) {
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, kind);
    pthread_rwlock_t rw;
    __builtin_memset(&rw, 0xab, sizeof rw);
    ASSERT_EQ(api().init(&rw, &attr), 0);
    EXPECT_EQ(rw.__data.__flags, unsigned(kind));
    EXPECT_EQ(api().wrlock(&rw), 0);
    EXPECT_EQ(api().unlock(&rw), 0);
    EXPECT_EQ(api().destroy(&rw), 0);
    pthread_rwlockattr_destroy(&attr);
  }
  pthread_rwlock_t rw;
  ASSERT_EQ(api().init(&rw, nullptr), 0);
  EXPECT_EQ(api().rdlock(&rw), 0);
  EXPECT_EQ(api().unlock(&rw), 0);
  EXPECT_EQ(api().destroy(&rw), 0);
}

// Where glibc's behaviour is undefined and breaks the lock, parklock answers
// instead (rwlock_ops.h documents these).
TEST(RwParklockOnly, UnlockingAFreeLockIsEpermAndHarmless) {
  pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
  EXPECT_EQ(parklock_rwlock_unlock(&rw), EPERM);
  EXPECT_EQ(parklock_rwlock_trywrlock(&rw), 0);
  EXPECT_EQ(parklock_rwlock_unlock(&rw), 0);
  EXPECT_EQ(parklock_rwlock_unlock(&rw), EPERM);
  EXPECT_EQ(parklock_rwlock_tryrdlock(&rw), 0);
  EXPECT_EQ(parklock_rwlock_unlock(&rw), 0);
}

TEST(RwParklockOnly, ForkChildCanUnlockWhatItsParentWriteLocked) {
  static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
  ASSERT_EQ(parklock_rwlock_wrlock(&rw), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    bool ok = parklock_rwlock_unlock(&rw) == 0 && parklock_rwlock_trywrlock(&rw) == 0 &&
              parklock_rwlock_wrlock(&rw) == EDEADLK && parklock_rwlock_unlock(&rw) == 0 &&
              parklock_rwlock_tryrdlock(&rw) == 0;
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(parklock_rwlock_unlock(&rw), 0);
}

}  // namespace
