// The parking lot under load: requeues racing time-outs (checked against a
// shadow count kept under the bucket lock), hash-table growth while hundreds
// of threads are queued, and thousands of short-lived threads.
#include <atomic>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "parking_lot.h"
#include "test_util.h"

namespace parking_lot_test {
namespace {

using namespace std::chrono_literals;

// Threads park on A with short or no deadlines while a driver requeues A onto
// B with every op, wakes from both, and filters. A and B share a bucket, so
// one bucket lock serializes every callback: the shadow counts below, kept
// only inside callbacks, are then exact, and each result (how many woken,
// requeued, "more threads", "key emptied") is checked against them.
TEST(ParkingLotStress, RequeueRacingTimeoutsMatchesShadowQueues) {
  Watchdog dog("RequeueRacingTimeoutsMatchesShadowQueues", 90s);
  const std::vector<const void*> keys = CollidingKeys(2);
  const void* a = keys[0];
  const void* b = keys[1];
  // Guarded by the shared bucket lock (touched only in callbacks).
  struct Shadow {
    long on_a = 0, on_b = 0;
    long mismatches = 0;
  } shadow;
  auto count_of = [&](const void* k) -> long& { return k == a ? shadow.on_a : shadow.on_b; };

  constexpr int kParkers = 6;
  constexpr int kRoundsEach = 3000;
  std::atomic<long> woken_by_unpark{0}, timed_out_on_b{0};
  std::atomic<int> parkers_done{0}, bad_tokens{0};
  std::vector<std::thread> parkers;
  for (int p = 0; p < kParkers; ++p) {
    parkers.emplace_back([&, p] {
      std::minstd_rand rng(p + 11);
      for (int round = 0; round < kRoundsEach; ++round) {
        // One park in four has no deadline: only a wake ends it.
        const bool forever = rng() % 4 == 0;
        timespec at = In(CLOCK_MONOTONIC, int64_t(rng() % 200'000));
        ParkOutcome o = parklock::park(
            a,
            [&] {
              ++shadow.on_a;
              return true;
            },
            [] {},
            [&](const void* k, bool emptied) {
              long& n = count_of(k);
              --n;
              if (emptied != (n == 0)) ++shadow.mismatches;
              if (k == b) timed_out_on_b.fetch_add(1, std::memory_order_relaxed);
            },
            ParkToken(p), forever ? Deadline::forever() : Deadline::on(CLOCK_MONOTONIC, &at));
        if (o.result == ParkResult::kUnparked) {
          woken_by_unpark.fetch_add(1, std::memory_order_relaxed);
          if (o.token < 1000) bad_tokens.fetch_add(1);
        }
      }
      parkers_done.fetch_add(1);
    });
  }

  long reported_woken = 0;
  UnparkToken next_token = 1000;
  std::minstd_rand rng(99);
  auto one = [&](const void* k) {
    reported_woken += parklock::unpark_one(k, [&](UnparkResult r) {
                        long& n = count_of(k);
                        n -= long(r.unparked_threads);
                        if (r.have_more_threads != (n > 0)) ++shadow.mismatches;
                        return next_token++;
                      }).unparked_threads;
  };
  auto requeue = [&](RequeueOp op) {
    UnparkResult r = parklock::unpark_requeue(
        a, b, [op] { return op; },
        [&](RequeueOp, UnparkResult res) {
          const long before = shadow.on_a;
          shadow.on_a -= long(res.unparked_threads + res.requeued_threads);
          shadow.on_b += long(res.requeued_threads);
          const bool moves_all = op != RequeueOp::kUnparkOne;
          if (moves_all && shadow.on_a != 0) ++shadow.mismatches;
          if (op == RequeueOp::kUnparkOne && res.have_more_threads != (shadow.on_a > 0)) ++shadow.mismatches;
          if (res.unparked_threads > 1 || long(res.unparked_threads) > before) ++shadow.mismatches;
          return next_token++;
        });
    reported_woken += long(r.unparked_threads);
  };
  auto filter_b = [&] {
    int i = 0;
    reported_woken += parklock::unpark_filter(
                          b, [&](ParkToken) { return i++ % 2 == 0 ? FilterOp::kUnpark : FilterOp::kSkip; },
                          [&](UnparkResult r) {
                            shadow.on_b -= long(r.unparked_threads);
                            if (r.have_more_threads != (shadow.on_b > 0)) ++shadow.mismatches;
                            return next_token++;
                          })
                          .unparked_threads;
  };
  while (parkers_done.load() < kParkers) {
    switch (rng() % 6) {
      case 0: requeue(RequeueOp::kRequeueAll); break;
      case 1: requeue(RequeueOp::kUnparkOneRequeueRest); break;
      case 2: requeue(RequeueOp::kUnparkOne); break;
      case 3: one(b); break;
      case 4: filter_b(); break;
      default: one(a); break;
    }
    if (rng() % 8 == 0) sched_yield();
  }
  for (auto& t : parkers) t.join();
  EXPECT_EQ(shadow.mismatches, 0);
  EXPECT_EQ(shadow.on_a, 0);
  EXPECT_EQ(shadow.on_b, 0);
  EXPECT_EQ(bad_tokens.load(), 0);
  EXPECT_EQ(reported_woken, woken_by_unpark.load()) << "woken counts differ from the unparkers' reports";
  EXPECT_EQ(QueuedOn(a), 0u);
  EXPECT_EQ(QueuedOn(b), 0u);
  RecordProperty("timed_out_on_b", int(timed_out_on_b.load()));
}

// 240 threads park on 37 keys in bursts while earlier ones are queued, so the
// table is rehashed several times under them (3 buckets per live thread:
// 64 -> 1024 buckets). Probes and short timed parks on other keys run
// throughout. Then every queue is read (FIFO order must have survived each
// rehash) and drained with one token per thread: each must wake exactly once
// with its own token.
TEST(ParkingLotStress, TableGrowsWhileThreadsAreParked) {
  Watchdog dog("TableGrowsWhileThreadsAreParked", 90s);
  constexpr int kThreads = 240;
  constexpr int kKeys = 37;
  static char keys[kKeys];
  static char side_key;
  std::vector<std::atomic<UnparkToken>> got(kThreads);
  std::vector<std::atomic<int>> wakes(kThreads);
  for (auto& g : got) g.store(0);
  for (auto& w : wakes) w.store(0);

  std::atomic<bool> stop_noise{false};
  std::atomic<long> noise_ops{0};
  std::thread noise([&] {
    // Bucket traffic that races each rehash: probes of every queued key and
    // parks that time out at once.
    while (!stop_noise.load()) {
      for (int k = 0; k < kKeys; ++k) QueuedOn(&keys[k]);
      timespec past = In(CLOCK_MONOTONIC, -1);
      Park(&side_key, 0, Deadline::on(CLOCK_MONOTONIC, &past));
      noise_ops.fetch_add(1);
    }
  });

  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  constexpr int kBurst = 40;
  for (int start = 0; start < kThreads; start += kBurst) {
    for (int i = start; i < start + kBurst; ++i) {
      threads.emplace_back([&, i] {
        ParkRecord r = Park(&keys[i % kKeys], ParkToken(i), Deadline::forever());
        if (r.outcome.result == ParkResult::kUnparked) got[i].store(r.outcome.token);
        wakes[i].fetch_add(1);
      });
    }
    // Let part of this burst queue before the next one starts registering.
    ASSERT_TRUE(WaitUntil([&] {
      size_t n = 0;
      for (int k = 0; k < kKeys; ++k) n += QueuedOn(&keys[k]);
      return n >= size_t(start + kBurst / 2);
    }));
  }
  ASSERT_TRUE(WaitUntil([&] {
    size_t n = 0;
    for (int k = 0; k < kKeys; ++k) n += QueuedOn(&keys[k]);
    return n == size_t{kThreads};
  }));
  stop_noise.store(true);
  noise.join();

  for (int k = 0; k < kKeys; ++k) {
    const std::vector<ParkToken> order = QueueOf(&keys[k]).ToVector();
    for (ParkToken t : order) EXPECT_EQ(int(t) % kKeys, k) << "thread " << t << " queued under the wrong key";
    for (ParkToken t : order) {
      UnparkResult r = UnparkOne(&keys[k], 1'000'000 + t);
      EXPECT_EQ(r.unparked_threads, 1u);
    }
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_EQ(wakes[i].load(), 1) << i;
    EXPECT_EQ(got[i].load(), UnparkToken(1'000'000 + i)) << "thread " << i << " got another's token";
  }
  for (int k = 0; k < kKeys; ++k) EXPECT_EQ(QueuedOn(&keys[k]), 0u);
  EXPECT_GT(noise_ops.load(), 0);
}

// 3000 threads that live just long enough to park once: half time out at
// once, half are woken by a long-lived unparker. Each registers with the
// parking lot and unregisters at exit (the thread count drives table size);
// a ThreadData must never be touched after its thread is gone.
TEST(ParkingLotStress, ThreadExitChurn) {
  Watchdog dog("ThreadExitChurn", 90s);
  constexpr int kThreads = 3000;
  constexpr int kWave = 20;  // divides kThreads
  static char key, past_key;
  std::atomic<int> woken{0}, timed_out{0}, wrong{0};
  std::atomic<bool> all_started{false};
  std::thread unparker([&] {
    // Wakes whoever is queued until every waker-dependent thread has gone.
    while (!all_started.load() || woken.load() < kThreads / 2) {
      if (UnparkOne(&key, 31).unparked_threads == 0) sched_yield();
    }
  });
  for (int base = 0; base < kThreads; base += kWave) {
    std::vector<std::thread> wave;
    for (int i = base; i < base + kWave; ++i) {
      wave.emplace_back([&, i] {
        if (i % 2 == 0) {
          ParkRecord r = Park(&key, 0, Deadline::forever());
          if (r.outcome.result == ParkResult::kUnparked && r.outcome.token == 31) woken.fetch_add(1);
          else wrong.fetch_add(1);
        } else {
          timespec past = In(CLOCK_REALTIME, -kMs);
          ParkRecord r = Park(&past_key, 0, Deadline::on(CLOCK_REALTIME, &past));
          // Others of the wave may be queued on past_key too: "emptied" varies.
          if (r.outcome.result == ParkResult::kTimedOut && r.timed_out_key == &past_key) timed_out.fetch_add(1);
          else wrong.fetch_add(1);
        }
      });
    }
    for (auto& t : wave) t.join();
  }
  all_started.store(true);
  unparker.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(woken.load(), kThreads / 2);
  EXPECT_EQ(timed_out.load(), kThreads / 2);
  EXPECT_EQ(QueuedOn(&key), 0u);
  // The lot still works for a thread that was never counted before.
  std::thread late([&] {
    timespec soon = In(CLOCK_MONOTONIC, kMs);
    EXPECT_EQ(Park(&key, 0, Deadline::on(CLOCK_MONOTONIC, &soon)).outcome.result, ParkResult::kTimedOut);
  });
  late.join();
}

}  // namespace
}  // namespace parking_lot_test
