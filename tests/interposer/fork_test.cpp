// fork(): a child forked while other threads hammer (and park on) locks
// keeps working locks; process-shared locks in shared memory serve parent and
// child exactly as glibc's do.
//
// Children report through their exit status (gtest assertions do not cross a
// fork); the parent reaps them under a deadline and kills a hung child.
#include <errno.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "lock_api.h"
#include "test_support.h"

namespace parklock_test {
namespace {

class Fork : public ::testing::TestWithParam<const LockApi*> {
 protected:
  const LockApi& api() const { return *GetParam(); }
};

// What a child checks, in order; its exit status is the first step that
// failed (0: all passed).
enum ChildStep : int {
  kChildOk = 0,
  kUnlockHeldAtFork = 10,       // unlock the lock the forking thread held
  kRelockHeldAtFork = 11,       // lock + unlock it again
  kTrylockFreeAtFork = 12,      // a lock nobody held at fork, contended before
  kFreshLocksContended = 13,    // threads in the child contend on fresh locks
  kInheritedLocksContended = 14,  // ... and on the two inherited ones
  kFreshCondvarPingPong = 15,   // a condvar handoff between two child threads
};

const char* StepName(int status) {
  switch (status) {
    case kUnlockHeldAtFork: return "unlock of the lock held by the forking thread";
    case kRelockHeldAtFork: return "relock of the lock held by the forking thread";
    case kTrylockFreeAtFork: return "trylock of a lock free at fork";
    case kFreshLocksContended: return "contention on fresh locks in the child";
    case kInheritedLocksContended: return "contention on inherited locks in the child";
    case kFreshCondvarPingPong: return "condvar ping-pong in the child";
    default: return "unknown step";
  }
}

// Threads in the child take `locks` in turn; true when every increment
// landed and every call succeeded.
bool ContendInChild(const LockApi& api, const std::vector<pthread_mutex_t*>& locks) {
  constexpr int kThreads = 4;
  constexpr int kOps = 5000;
  std::vector<long> counters(locks.size(), 0);  // counters[i] guarded by locks[i]
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kOps; ++i) {
        const size_t k = (i + t) % locks.size();
        if (api.mutex_lock(locks[k]) != 0) {
          failures.fetch_add(1);
          continue;
        }
        ++counters[k];
        if (api.mutex_unlock(locks[k]) != 0) failures.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  long total = 0;
  for (long c : counters) total += c;
  return failures.load() == 0 && total == long{kThreads} * kOps;
}

// Two child threads take turns through a fresh condvar.
bool PingPongInChild(const LockApi& api) {
  constexpr int kRounds = 500;
  pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t c = PTHREAD_COND_INITIALIZER;
  int turn = 0;  // guarded by m
  std::atomic<int> failures{0};
  auto player = [&](int me) {
    api.mutex_lock(&m);
    for (int i = 0; i < kRounds; ++i) {
      while (turn != me) {
        if (api.cond_wait(&c, &m) != 0) failures.fetch_add(1);
      }
      turn = 1 - me;
      api.cond_signal(&c);
    }
    api.mutex_unlock(&m);
  };
  std::thread other(player, 1);
  player(0);
  other.join();
  return failures.load() == 0;
}

// The child's side of ForkWhileOtherThreadsHammer. Only the forking thread
// survives the fork: locks the other threads held (or were parked on) belong
// to no one the child can see, so the child leaves `hot` alone.
int ChildChecks(const LockApi& api, pthread_mutex_t* held_at_fork, pthread_mutex_t* free_at_fork) {
  if (api.mutex_unlock(held_at_fork) != 0) return kUnlockHeldAtFork;
  if (api.mutex_lock(held_at_fork) != 0 || api.mutex_unlock(held_at_fork) != 0) {
    return kRelockHeldAtFork;
  }
  if (api.mutex_trylock(free_at_fork) != 0 || api.mutex_unlock(free_at_fork) != 0) {
    return kTrylockFreeAtFork;
  }
  std::array<pthread_mutex_t, 3> fresh;
  for (auto& m : fresh) api.mutex_init(&m, nullptr);
  if (!ContendInChild(api, {&fresh[0], &fresh[1], &fresh[2]})) return kFreshLocksContended;
  if (!ContendInChild(api, {held_at_fork, free_at_fork})) return kInheritedLocksContended;
  if (!PingPongInChild(api)) return kFreshCondvarPingPong;
  return kChildOk;
}

TEST_P(Fork, ForkWhileOtherThreadsHammer) {
  constexpr int kHammers = 6;
  constexpr int kHot = 8;
  constexpr int kForks = 12;
  // Normal mutexes: an errorcheck or recursive mutex held at fork is owned by
  // a thread id the child no longer has (see the next test).
  pthread_mutex_t held_at_fork = PTHREAD_MUTEX_INITIALIZER;
  pthread_mutex_t free_at_fork = PTHREAD_MUTEX_INITIALIZER;
  std::array<pthread_mutex_t, kHot> hot;
  std::array<long, kHot> hot_counters{};  // hot_counters[i] guarded by hot[i]
  for (auto& m : hot) ASSERT_EQ(api().mutex_init(&m, nullptr), 0);
  std::atomic<bool> stop{false};
  std::atomic<int> phase{0};  // 0: contend on free_at_fork too; 1: leave it alone
  std::atomic<long> acquisitions{0};
  std::atomic<int> wrong_results{0};

  Watchdog watchdog("ForkWhileOtherThreadsHammer", std::chrono::seconds(100));
  std::vector<std::thread> hammers;
  std::atomic<int> left_phase0{0};
  for (int t = 0; t < kHammers; ++t) {
    hammers.emplace_back([&, t] {
      Rng rng(t + 77);
      long mine = 0;
      bool counted_phase1 = false;
      while (!stop.load(std::memory_order_relaxed)) {
        const uint32_t pick = rng.Below(16);
        if (phase.load() == 0 && pick == 0) {
          if (api().mutex_lock(&free_at_fork) != 0) wrong_results.fetch_add(1);
          std::this_thread::yield();  // hold it a little, so others park on it
          if (api().mutex_unlock(&free_at_fork) != 0) wrong_results.fetch_add(1);
          continue;
        }
        if (!counted_phase1 && phase.load() == 1) {
          counted_phase1 = true;
          left_phase0.fetch_add(1);
        }
        if (pick == 1) {
          // Blocks while the forking thread holds it: waiters are parked on
          // held_at_fork when fork() runs.
          timespec at = DeadlineIn(CLOCK_MONOTONIC, 30 * kSec);
          if (api().mutex_clocklock(&held_at_fork, CLOCK_MONOTONIC, &at) != 0 ||
              api().mutex_unlock(&held_at_fork) != 0) {
            wrong_results.fetch_add(1);
          }
          continue;
        }
        const int k = rng.Below(kHot);
        const int rc = (pick & 1) ? api().mutex_trylock(&hot[k]) : api().mutex_lock(&hot[k]);
        if (rc == EBUSY) continue;
        if (rc != 0) {
          wrong_results.fetch_add(1);
          continue;
        }
        ++hot_counters[k];
        ++mine;
        if (api().mutex_unlock(&hot[k]) != 0) wrong_results.fetch_add(1);
      }
      acquisitions.fetch_add(mine);
    });
  }

  // Let the hammers contend on free_at_fork for a while, then move them off it
  // and wait until every one has left (it is free from then on).
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  phase.store(1);
  while (left_phase0.load() < kHammers) std::this_thread::yield();

  for (int f = 0; f < kForks; ++f) {
    SCOPED_TRACE(f);
    if (api().mutex_lock(&held_at_fork) != 0) {
      ADD_FAILURE() << "lock before fork failed";
      break;
    }
    // A bounded delay so some hammers block on held_at_fork before the fork.
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
    const pid_t pid = fork();
    const int fork_errno = errno;
    if (pid == 0) _exit(ChildChecks(api(), &held_at_fork, &free_at_fork));
    EXPECT_EQ(api().mutex_unlock(&held_at_fork), 0);
    if (pid < 0) {
      ADD_FAILURE() << "fork failed: errno " << fork_errno;
      break;
    }
    const ChildOutcome outcome = WaitForChild(pid, std::chrono::seconds(30));
    EXPECT_TRUE(outcome.exited && outcome.status == kChildOk)
        << Describe(outcome) << (outcome.exited ? std::string(": ") + StepName(outcome.status) : "");
  }

  stop.store(true);
  for (auto& t : hammers) t.join();
  EXPECT_EQ(wrong_results.load(), 0);
  long counted = 0;
  for (long c : hot_counters) counted += c;
  EXPECT_EQ(counted, acquisitions.load());
  for (auto& m : hot) EXPECT_EQ(api().mutex_destroy(&m), 0);
}

// glibc records an errorcheck mutex's owner as a thread id, and the child's
// only thread has a new one: the lock the parent's thread held is not the
// child's to unlock (EPERM), and the child cannot take it either.
TEST_P(Fork, ErrorcheckMutexHeldAtForkIsNotOwnedByTheChild) {
  TestMutex m(api(), Kind::kErrorcheck);
  ASSERT_EQ(api().mutex_lock(m.get()), 0);
  const pid_t pid = fork();
  if (pid == 0) {
    if (api().mutex_unlock(m.get()) != EPERM) _exit(1);
    if (api().mutex_trylock(m.get()) != EBUSY) _exit(2);
    _exit(0);
  }
  ASSERT_GT(pid, 0);
  EXPECT_EQ(api().mutex_unlock(m.get()), 0);
  const ChildOutcome outcome = WaitForChild(pid, std::chrono::seconds(30));
  EXPECT_TRUE(outcome.exited && outcome.status == 0)
      << Describe(outcome) << " (1: unlock was not EPERM, 2: trylock was not EBUSY)";
}

// A process-shared mutex and condvar in MAP_SHARED memory, initialized with
// this backend's init (parklock hands those to glibc), ping-pong between
// parent and child.
struct SharedPingPong {
  pthread_mutex_t m;
  pthread_cond_t c;
  int turn;    // guarded by m: 0 parent, 1 child
  int rounds;  // guarded by m: completed half-rounds
};

TEST_P(Fork, ProcessSharedMutexAndCondvarAcrossFork) {
  constexpr int kRounds = 300;
  void* mem = mmap(nullptr, sizeof(SharedPingPong), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mem, MAP_FAILED);
  auto* s = new (mem) SharedPingPong{};
  pthread_mutexattr_t mattr;
  pthread_mutexattr_init(&mattr);
  pthread_mutexattr_setpshared(&mattr, PTHREAD_PROCESS_SHARED);
  ASSERT_EQ(api().mutex_init(&s->m, &mattr), 0);
  pthread_mutexattr_destroy(&mattr);
  pthread_condattr_t cattr;
  pthread_condattr_init(&cattr);
  pthread_condattr_setpshared(&cattr, PTHREAD_PROCESS_SHARED);
  pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
  ASSERT_EQ(api().cond_init(&s->c, &cattr), 0);
  pthread_condattr_destroy(&cattr);

  const pid_t pid = fork();
  if (pid == 0) {
    // The child blocks without a deadline: if it hangs, the parent's timed
    // wait notices and kills it.
    int status = 0;
    api().mutex_lock(&s->m);
    for (int i = 0; i < kRounds && status == 0; ++i) {
      while (s->turn != 1 && status == 0) status = api().cond_wait(&s->c, &s->m);
      s->turn = 0;
      ++s->rounds;
      if (api().cond_signal(&s->c) != 0) status = 1;
    }
    api().mutex_unlock(&s->m);
    _exit(status == 0 ? 0 : 1);
  }
  ASSERT_GT(pid, 0);

  int failed_wait = 0;
  ASSERT_EQ(api().mutex_lock(&s->m), 0);
  for (int i = 0; i < kRounds && failed_wait == 0; ++i) {
    s->turn = 1;
    ++s->rounds;
    EXPECT_EQ(api().cond_signal(&s->c), 0);
    const timespec at = DeadlineIn(CLOCK_MONOTONIC, 30 * kSec);
    while (s->turn != 0 && failed_wait == 0) failed_wait = api().cond_timedwait(&s->c, &s->m, &at);
  }
  const int rounds = s->rounds;
  EXPECT_EQ(api().mutex_unlock(&s->m), 0);
  EXPECT_EQ(failed_wait, 0) << "the parent's wait for the child's turn failed";
  EXPECT_EQ(rounds, 2 * kRounds);

  const ChildOutcome outcome = WaitForChild(pid, std::chrono::seconds(30));
  EXPECT_TRUE(outcome.exited && outcome.status == 0) << Describe(outcome);
  EXPECT_EQ(api().cond_destroy(&s->c), 0);
  EXPECT_EQ(api().mutex_destroy(&s->m), 0);
  munmap(mem, sizeof(SharedPingPong));
}

INSTANTIATE_TEST_SUITE_P(Backends, Fork, AllBackends(), BackendName);

}  // namespace
}  // namespace parklock_test
