// Reader preference (recursive readers never deadlock), writer preference
// (writers are not starved), static initializers and timed waits on both
// clocks, for glibc and parklock alike.
#include <errno.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "rwlock_api_table.h"

namespace {

class RwPreference : public RwBoth {};
INSTANTIATE_RW_BOTH(RwPreference);

void init_kind(const RwApi& api, pthread_rwlock_t* rw, int kind) {
  pthread_rwlockattr_t attr;
  pthread_rwlockattr_init(&attr);
  pthread_rwlockattr_setkind_np(&attr, kind);
  ASSERT_EQ(api.init(rw, &attr), 0);
  pthread_rwlockattr_destroy(&attr);
}

// Starts a writer that blocks on `rw` until the test lets the readers go;
// returns once the writer is (almost certainly) parked.
std::thread start_blocked_writer(const RwApi& api, pthread_rwlock_t* rw, std::atomic<bool>* done) {
  std::thread writer([&api, rw, done] {
    EXPECT_EQ(api.wrlock(rw), 0);
    done->store(true);
    EXPECT_EQ(api.unlock(rw), 0);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  return writer;
}

TEST_P(RwPreference, RecursiveReadWithAWriterWaitingDoesNotDeadlock) {
  for (int kind : {PTHREAD_RWLOCK_PREFER_READER_NP, PTHREAD_RWLOCK_PREFER_WRITER_NP}) {
    pthread_rwlock_t rw;
    init_kind(api(), &rw, kind);
    ASSERT_EQ(api().rdlock(&rw), 0);
    std::atomic<bool> writer_done{false};
    std::thread writer = start_blocked_writer(api(), &rw, &writer_done);
    EXPECT_FALSE(writer_done.load());
    // A bounded wait stands in for rdlock: a deadlock fails instead of hanging.
    timespec deadline = deadline_in_ms(CLOCK_MONOTONIC, 5000);
    EXPECT_EQ(api().clockrdlock(&rw, CLOCK_MONOTONIC, &deadline), 0) << "kind " << kind;
    EXPECT_EQ(api().tryrdlock(&rw), 0);
    // So does another thread: readers get in while no writer holds the lock.
    std::thread([&] {
      timespec d = deadline_in_ms(CLOCK_MONOTONIC, 5000);
      EXPECT_EQ(api().clockrdlock(&rw, CLOCK_MONOTONIC, &d), 0);
      EXPECT_EQ(api().unlock(&rw), 0);
    }).join();
    EXPECT_EQ(api().unlock(&rw), 0);
    EXPECT_EQ(api().unlock(&rw), 0);
    EXPECT_FALSE(writer_done.load());
    EXPECT_EQ(api().unlock(&rw), 0);
    writer.join();
    EXPECT_TRUE(writer_done.load());
    EXPECT_EQ(api().destroy(&rw), 0);
  }
}

// Reader preference: a write unlock gives the lock to the waiting readers,
// even with a writer queued ahead of them; that writer gets it after them.
TEST_P(RwPreference, WriteUnlockGivesTheLockToWaitingReaders) {
  constexpr int kReaders = 3;
  pthread_rwlock_t rw;
  init_kind(api(), &rw, PTHREAD_RWLOCK_PREFER_READER_NP);
  ASSERT_EQ(api().wrlock(&rw), 0);
  std::atomic<bool> writer_done{false};
  std::thread writer = start_blocked_writer(api(), &rw, &writer_done);
  std::atomic<int> readers_in{0};
  std::atomic<bool> writer_was_first{false}, release{false};
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&] {
      EXPECT_EQ(api().rdlock(&rw), 0);
      if (writer_done.load()) writer_was_first = true;
      readers_in.fetch_add(1);
      while (!release.load()) std::this_thread::yield();
      EXPECT_EQ(api().unlock(&rw), 0);
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the readers block
  // A writer that keeps trying, running when the unlock comes: the readers
  // own the lock from the unlock on, before any of them has run, so it only
  // gets in after them.
  std::atomic<bool> spinner_running{false}, spinner_got_it_first{false};
  std::thread spinner([&] {
    spinner_running = true;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < until) {
      if (api().trywrlock(&rw) == 0) {
        if (readers_in.load() < kReaders) spinner_got_it_first = true;
        EXPECT_EQ(api().unlock(&rw), 0);
        return;
      }
    }
  });
  while (!spinner_running.load()) std::this_thread::yield();
  EXPECT_EQ(api().unlock(&rw), 0);
  const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (readers_in.load() < kReaders && std::chrono::steady_clock::now() < limit)
    std::this_thread::yield();
  EXPECT_EQ(readers_in.load(), kReaders);
  EXPECT_FALSE(writer_was_first.load()) << "the queued writer got the lock before the readers";
  EXPECT_FALSE(writer_done.load()) << "the writer got in while the readers held the lock";
  release = true;
  for (auto& t : readers) t.join();
  spinner.join();
  EXPECT_FALSE(spinner_got_it_first.load()) << "a writer got the lock before the waiting readers";
  writer.join();
  EXPECT_TRUE(writer_done.load());
  EXPECT_EQ(api().destroy(&rw), 0);
}

TEST_P(RwPreference, WriterNonrecursiveWaitingWriterBlocksNewReaders) {
  pthread_rwlock_t rw = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;
  ASSERT_EQ(api().rdlock(&rw), 0);
  std::atomic<bool> writer_done{false};
  std::thread writer = start_blocked_writer(api(), &rw, &writer_done);
  std::thread([&] {
    EXPECT_EQ(api().tryrdlock(&rw), EBUSY);
    timespec d = deadline_in_ms(CLOCK_REALTIME, 20);
    EXPECT_EQ(api().timedrdlock(&rw, &d), ETIMEDOUT);
  }).join();
  EXPECT_EQ(api().unlock(&rw), 0);
  writer.join();
  EXPECT_TRUE(writer_done.load());
  EXPECT_EQ(api().tryrdlock(&rw), 0);
  EXPECT_EQ(api().unlock(&rw), 0);
}

TEST_P(RwPreference, WriterNonrecursiveWritersAreNotStarvedByReaders) {
  pthread_rwlock_t rw = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;
  std::atomic<bool> stop{false};
  std::vector<std::thread> readers;
  // Overlapping readers: the lock is never free of readers on its own.
  for (int i = 0; i < 4; ++i) {
    readers.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        ASSERT_EQ(api().rdlock(&rw), 0);
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        ASSERT_EQ(api().unlock(&rw), 0);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  double worst_ms = 0;
  for (int i = 0; i < 50; ++i) {
    timespec start = monotonic_now();
    timespec deadline = deadline_in_ms(CLOCK_MONOTONIC, 10000);
    ASSERT_EQ(api().clockwrlock(&rw, CLOCK_MONOTONIC, &deadline), 0);
    worst_ms = std::max(worst_ms, elapsed_ms_since(start));
    ASSERT_EQ(api().unlock(&rw), 0);
  }
  stop = true;
  for (auto& t : readers) t.join();
  // A writer waits for the readers inside (~0.2 ms each) and for scheduling
  // on a loaded machine, never for the stream of readers.
  EXPECT_LT(worst_ms, 2000.0);
}

TEST_P(RwPreference, StaticInitializersWork) {
  pthread_rwlock_t reader_pref = PTHREAD_RWLOCK_INITIALIZER;
  pthread_rwlock_t writer_pref = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;
  for (pthread_rwlock_t* rw : {&reader_pref, &writer_pref}) {
    EXPECT_EQ(api().rdlock(rw), 0);
    EXPECT_EQ(api().rdlock(rw), 0);
    EXPECT_EQ(api().trywrlock(rw), EBUSY);
    EXPECT_EQ(api().unlock(rw), 0);
    EXPECT_EQ(api().unlock(rw), 0);
    EXPECT_EQ(api().wrlock(rw), 0);
    EXPECT_EQ(api().tryrdlock(rw), EBUSY);
    EXPECT_EQ(api().unlock(rw), 0);
  }
}

struct TimedCase {
  clockid_t clock;
  bool write_waiter;
};

TEST_P(RwPreference, TimedWaitsTimeOutNoEarlierThanTheDeadlineOnBothClocks) {
  pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
  for (TimedCase c : {TimedCase{CLOCK_REALTIME, false}, TimedCase{CLOCK_REALTIME, true},
                      TimedCase{CLOCK_MONOTONIC, false}, TimedCase{CLOCK_MONOTONIC, true}}) {
    ASSERT_EQ(api().wrlock(&rw), 0);
    std::thread([&] {
      timespec start = monotonic_now();
      timespec deadline = deadline_in_ms(c.clock, 30);
      int err = c.write_waiter ? api().clockwrlock(&rw, c.clock, &deadline)
                               : api().clockrdlock(&rw, c.clock, &deadline);
      EXPECT_EQ(err, ETIMEDOUT);
      EXPECT_GE(elapsed_ms_since(start), 29.0);
      if (c.clock == CLOCK_REALTIME) {
        timespec d2 = deadline_in_ms(CLOCK_REALTIME, 10);
        err = c.write_waiter ? api().timedwrlock(&rw, &d2) : api().timedrdlock(&rw, &d2);
        EXPECT_EQ(err, ETIMEDOUT);
      }
    }).join();
    ASSERT_EQ(api().unlock(&rw), 0);
  }
}

TEST_P(RwPreference, TimedWaitsSucceedWhenReleasedInTime) {
  for (clockid_t clock : {CLOCK_REALTIME, CLOCK_MONOTONIC}) {
    for (bool write_waiter : {false, true}) {
      pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
      ASSERT_EQ(api().wrlock(&rw), 0);
      std::thread waiter([&] {
        timespec deadline = deadline_in_ms(clock, 10000);
        int err = write_waiter ? api().clockwrlock(&rw, clock, &deadline)
                               : api().clockrdlock(&rw, clock, &deadline);
        EXPECT_EQ(err, 0);
        if (err == 0) {
          EXPECT_EQ(api().unlock(&rw), 0);
        }
      });
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      ASSERT_EQ(api().unlock(&rw), 0);
      waiter.join();
      EXPECT_EQ(api().trywrlock(&rw), 0);
      EXPECT_EQ(api().unlock(&rw), 0);
    }
  }
}

// Writer preference: a writer that claimed the lock and timed out waiting for
// the readers must let the readers queued behind it in.
TEST_P(RwPreference, WriterNonrecursiveTimedOutWriterReleasesQueuedReaders) {
  pthread_rwlock_t rw = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;
  ASSERT_EQ(api().rdlock(&rw), 0);
  std::thread writer([&] {
    timespec deadline = deadline_in_ms(CLOCK_MONOTONIC, 100);
    EXPECT_EQ(api().clockwrlock(&rw, CLOCK_MONOTONIC, &deadline), ETIMEDOUT);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  std::thread reader([&] {
    timespec deadline = deadline_in_ms(CLOCK_MONOTONIC, 5000);
    EXPECT_EQ(api().clockrdlock(&rw, CLOCK_MONOTONIC, &deadline), 0);
    EXPECT_EQ(api().unlock(&rw), 0);
  });
  writer.join();
  reader.join();
  EXPECT_EQ(api().unlock(&rw), 0);
  EXPECT_EQ(api().trywrlock(&rw), 0);
  EXPECT_EQ(api().unlock(&rw), 0);
}

}  // namespace
