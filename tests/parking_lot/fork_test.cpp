// fork() and the parking lot: the child inherits queues of threads it does
// not have and bucket locks that other threads may have held; it must be able
// to park and unpark on old and fresh keys, and the parent must not notice.
//
// A child reports through its exit status (gtest does not cross a fork) and
// is bounded by alarm(); the parent reaps it under a deadline.
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "parking_lot.h"
#include "test_util.h"

namespace parking_lot_test {
namespace {

using namespace std::chrono_literals;

// Exit codes: the first step that failed.
enum ChildStep : int {
  kChildOk = 0,
  kOldQueueNotDropped = 10,     // unpark_all on a key the parent's threads were queued on
  kPastDeadlineOnOldKey = 11,   // a timed park on such a key
  kChildThreadsNotQueued = 12,  // two child threads never showed up in the queues
  kWrongTokenInChild = 13,      // they were woken with the wrong tokens
};

// Child threads park on `old_key` and a fresh key; the forking thread wakes
// them with distinct tokens.
int ParkAndUnparkInChild(const void* old_key) {
  static char fresh_key;
  std::atomic<UnparkToken> got_old{0}, got_fresh{0};
  std::thread t1([&] { got_old = Park(old_key, 0, Deadline::forever()).outcome.token; });
  std::thread t2([&] { got_fresh = Park(&fresh_key, 0, Deadline::forever()).outcome.token; });
  const bool queued = WaitUntil([&] { return QueuedOn(old_key) == 1 && QueuedOn(&fresh_key) == 1; }, 10 * kSec);
  // Wake them even on failure, so the child can exit.
  UnparkOne(old_key, 71);
  UnparkOne(&fresh_key, 72);
  t1.join();
  t2.join();
  if (!queued) return kChildThreadsNotQueued;
  if (got_old.load() != 71 || got_fresh.load() != 72) return kWrongTokenInChild;
  return kChildOk;
}

int ChildAfterForkWhileParked(const void* const* old_keys, int num_keys) {
  for (int k = 0; k < num_keys; ++k) {
    if (parklock::unpark_all(old_keys[k], 1) != 0) return kOldQueueNotDropped;
  }
  timespec past = In(CLOCK_MONOTONIC, -kMs);
  ParkRecord r = Park(old_keys[0], 0, Deadline::on(CLOCK_MONOTONIC, &past));
  if (r.outcome.result != ParkResult::kTimedOut || !r.key_was_emptied) return kPastDeadlineOnOldKey;
  return ParkAndUnparkInChild(old_keys[1]);
}

TEST(ParkingLotFork, ChildOfAProcessWithParkedThreadsParksOnOldAndFreshKeys) {
  Watchdog dog("ChildOfAProcessWithParkedThreadsParksOnOldAndFreshKeys", 90s);
  constexpr int kKeys = 4, kThreads = 8;
  static char keys[kKeys];
  const void* key_ptrs[kKeys] = {&keys[0], &keys[1], &keys[2], &keys[3]};
  std::vector<std::atomic<UnparkToken>> got(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    got[i].store(0);
    threads.emplace_back([&, i] { got[i] = Park(&keys[i % kKeys], ParkToken(i), Deadline::forever()).outcome.token; });
  }
  ASSERT_TRUE(WaitUntil([&] {
    size_t n = 0;
    for (auto& k : keys) n += QueuedOn(&k);
    return n == size_t{kThreads};
  }));

  pid_t pid = fork();
  ASSERT_NE(pid, -1);
  if (pid == 0) {
    alarm(20);
    _exit(ChildAfterForkWhileParked(key_ptrs, kKeys));
  }
  EXPECT_EQ(ReapChild(pid), kChildOk);

  // The parent's queues are as they were.
  for (int k = 0; k < kKeys; ++k) {
    EXPECT_EQ(QueuedOn(&keys[k]), size_t{kThreads / kKeys}) << "key " << k;
    for (ParkToken t : QueueOf(&keys[k]).ToVector()) EXPECT_EQ(UnparkOne(&keys[k], 500 + t).unparked_threads, 1u);
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kThreads; ++i) EXPECT_EQ(got[i].load(), UnparkToken(500 + i)) << i;
}

// Forks again and again while other threads hold bucket locks as often as
// they can (park/unpark ping-pong on keys that share one bucket, and threads
// that start, register, park once and exit, which may grow the table). Any
// bucket lock held at the fork must not stay held in the child.
TEST(ParkingLotFork, ForkWhileBucketLocksAreBusy) {
#ifdef __SANITIZE_ADDRESS__
  // GCC 12's AddressSanitizer allocator takes no lock around fork(): a child
  // forked while another thread allocates hangs in calloc, whatever we do.
  GTEST_SKIP() << "fork() amid allocating threads deadlocks AddressSanitizer's allocator";
#endif
  Watchdog dog("ForkWhileBucketLocksAreBusy", 90s);
  const std::vector<const void*> keys = CollidingKeys(3);
  std::atomic<bool> stop{false};
  std::vector<std::thread> busy;
  // Ping-pong: one thread parks, the other wakes it, on colliding keys.
  for (int p = 0; p < 2; ++p) {
    busy.emplace_back([&, p] {
      while (!stop.load()) {
        timespec soon = In(CLOCK_MONOTONIC, 200'000);
        Park(keys[p], 0, Deadline::on(CLOCK_MONOTONIC, &soon));
        UnparkOne(keys[1 - p], 1);
      }
    });
  }
  busy.emplace_back([&] {
    while (!stop.load()) {
      std::thread t([&] {
        timespec past = In(CLOCK_MONOTONIC, -1);
        Park(keys[2], 0, Deadline::on(CLOCK_MONOTONIC, &past));
      });
      t.join();
    }
  });

  constexpr int kForks = 40;
  int failures = 0;
  for (int f = 0; f < kForks; ++f) {
    pid_t pid = fork();
    ASSERT_NE(pid, -1);
    if (pid == 0) {
      alarm(20);
      _exit(ParkAndUnparkInChild(keys[f % 3]));
    }
    const int status = ReapChild(pid);
    if (status != kChildOk && failures++ < 3) ADD_FAILURE() << "fork " << f << ": child status " << status;
  }
  stop.store(true);
  for (auto& t : busy) t.join();
  EXPECT_EQ(failures, 0);
}

}  // namespace
}  // namespace parking_lot_test
