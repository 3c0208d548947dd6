// The parking lot's contracts, one call at a time: FIFO order and tokens,
// validate, deadlines on both clocks, unpark_filter's skip/stop, every
// RequeueOp, keys that share a bucket, and the race between a time-out and
// an unpark.
#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "parking_lot.h"
#include "spin_wait.h"
#include "test_util.h"

namespace parking_lot_test {
namespace {

using namespace std::chrono_literals;

// A parked thread of a test: parks once on `key` and keeps what happened.
class Parker {
 public:
  Parker(const void* key, ParkToken token, Deadline deadline = Deadline::forever())
      : thread_([this, key, token, deadline] {
          record_ = Park(key, token, deadline);
          done_.store(true, std::memory_order_release);
        }) {}
  ~Parker() {
    if (thread_.joinable()) thread_.join();
  }
  const ParkRecord& Join() {
    thread_.join();
    return record_;
  }
  bool done() const { return done_.load(std::memory_order_acquire); }

 private:
  ParkRecord record_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

// Starts parkers on `key` one at a time, each queued before the next starts,
// so the FIFO order is their index order. Tokens are base + index.
std::vector<std::unique_ptr<Parker>> ParkInOrder(const void* key, int count, ParkToken base) {
  std::vector<std::unique_ptr<Parker>> parkers;
  const size_t already = QueuedOn(key);
  for (int i = 0; i < count; ++i) {
    parkers.push_back(std::make_unique<Parker>(key, base + i));
    EXPECT_TRUE(WaitUntil([&] { return QueuedOn(key) == already + i + 1; })) << "parker " << i;
  }
  return parkers;
}

TEST(ParkingLot, UnparkOneWakesInFifoOrderWithEachToken) {
  Watchdog dog("UnparkOneWakesInFifoOrderWithEachToken", 60s);
  static char key;
  constexpr int kThreads = 8;
  auto parkers = ParkInOrder(&key, kThreads, 0);
  for (int i = 0; i < kThreads; ++i) {
    int callbacks = 0;
    UnparkResult r = parklock::unpark_one(&key, [&](UnparkResult seen) {
      ++callbacks;
      EXPECT_EQ(seen.unparked_threads, 1u);
      EXPECT_EQ(seen.have_more_threads, i + 1 < kThreads);
      return UnparkToken(1000 + i);
    });
    EXPECT_EQ(callbacks, 1);
    EXPECT_EQ(r.unparked_threads, 1u);
    EXPECT_EQ(r.have_more_threads, i + 1 < kThreads);
  }
  for (int i = 0; i < kThreads; ++i) {
    const ParkRecord& rec = parkers[i]->Join();
    EXPECT_EQ(rec.outcome.result, ParkResult::kUnparked) << i;
    EXPECT_EQ(rec.outcome.token, UnparkToken(1000 + i)) << "woken out of FIFO order: " << i;
    EXPECT_EQ(rec.before_sleep_calls, 1);
    EXPECT_EQ(rec.timed_out_calls, 0);
  }
  // Nobody left: the callback still runs, and says so.
  int callbacks = 0;
  UnparkResult r = parklock::unpark_one(&key, [&](UnparkResult seen) {
    ++callbacks;
    EXPECT_EQ(seen.unparked_threads, 0u);
    EXPECT_FALSE(seen.have_more_threads);
    return UnparkToken(7);
  });
  EXPECT_EQ(callbacks, 1);
  EXPECT_EQ(r.unparked_threads, 0u);
  EXPECT_EQ(QueuedOn(&key), 0u);
}

TEST(ParkingLot, InvalidParkNeverSleepsNorCallsBack) {
  static char key;
  int before = 0, timed_out = 0;
  ParkOutcome o = parklock::park(
      &key, [] { return false; }, [&] { ++before; }, [&](const void*, bool) { ++timed_out; }, 0,
      Deadline::forever());
  EXPECT_EQ(o.result, ParkResult::kInvalid);
  EXPECT_EQ(before, 0);
  EXPECT_EQ(timed_out, 0);
  EXPECT_EQ(QueuedOn(&key), 0u);
}

TEST(ParkingLot, TimedOutReportsFinalKeyAndWhetherItWasEmptied) {
  Watchdog dog("TimedOutReportsFinalKeyAndWhetherItWasEmptied", 60s);
  static char key;
  // Alone on the key: emptied.
  timespec soon = In(CLOCK_MONOTONIC, 20 * kMs);
  ParkRecord alone = Park(&key, 0, Deadline::on(CLOCK_MONOTONIC, &soon));
  EXPECT_EQ(alone.outcome.result, ParkResult::kTimedOut);
  EXPECT_EQ(alone.before_sleep_calls, 1);
  EXPECT_EQ(alone.timed_out_calls, 1);
  EXPECT_EQ(alone.timed_out_key, &key);
  EXPECT_TRUE(alone.key_was_emptied);
  EXPECT_GE(NowNs(CLOCK_MONOTONIC), soon.tv_sec * kSec + soon.tv_nsec);

  // Behind a thread that stays: not emptied, and the stayer is still there.
  auto stayer = ParkInOrder(&key, 1, 42);
  timespec past = In(CLOCK_MONOTONIC, -kSec);
  ParkRecord second = Park(&key, 0, Deadline::on(CLOCK_MONOTONIC, &past));
  EXPECT_EQ(second.outcome.result, ParkResult::kTimedOut);
  EXPECT_EQ(second.timed_out_key, &key);
  EXPECT_FALSE(second.key_was_emptied);
  EXPECT_EQ(QueueOf(&key).ToVector(), std::vector<ParkToken>{42});
  EXPECT_EQ(UnparkOne(&key, 5).unparked_threads, 1u);
  EXPECT_EQ(stayer[0]->Join().outcome.token, 5u);
}

// Revalidate::kPeriodically: a sleeper whose validate() stays true stays
// queued in place across its re-checks; once it turns false (nobody
// unparks), the sleeper leaves by itself, says whether others remain, and
// runs timed_out() as on a time-out.
TEST(ParkingLot, PeriodicRevalidationLeavesOnceValidateTurnsFalse) {
  Watchdog dog("PeriodicRevalidationLeavesOnceValidateTurnsFalse", 60s);
  static char key;
  auto stayer = ParkInOrder(&key, 1, 7);
  std::atomic<bool> valid{true};
  std::atomic<int> validations{0}, timed_out_calls{0};
  std::atomic<bool> others_seen{false};
  ParkOutcome outcome{ParkResult::kInvalid};
  std::thread sleeper([&] {
    outcome = parklock::park(
        &key,
        [&] {
          validations.fetch_add(1);
          return valid.load();
        },
        [] {},
        [&](const void*, bool emptied) {
          timed_out_calls.fetch_add(1);
          others_seen = !emptied;
        },
        8, Deadline::forever(), nullptr, parklock::Revalidate::kPeriodically);
  });
  // Several re-checks (1, 2, 4 ms...) come and go; it stays second in line.
  ASSERT_TRUE(WaitUntil([&] { return validations.load() >= 4; }));
  EXPECT_EQ(QueueOf(&key).ToVector(), (std::vector<ParkToken>{7, 8}));
  valid.store(false);
  sleeper.join();
  EXPECT_EQ(outcome.result, ParkResult::kNoLongerValid);
  EXPECT_TRUE(outcome.others_queued);
  EXPECT_EQ(timed_out_calls.load(), 1);
  EXPECT_TRUE(others_seen.load());
  EXPECT_EQ(QueueOf(&key).ToVector(), std::vector<ParkToken>{7});
  EXPECT_EQ(UnparkOne(&key, 3).unparked_threads, 1u);
  EXPECT_EQ(stayer[0]->Join().outcome.token, 3u);
}

// Deadlines that have already passed, on both clocks, including negative
// seconds (which futex(2) refuses with EINVAL): the thread is queued (so
// before_sleep runs, as a condvar needs), then leaves at once.
TEST(ParkingLot, PastAndNegativeDeadlinesTimeOutAtOnce) {
  Watchdog dog("PastAndNegativeDeadlinesTimeOutAtOnce", 60s);
  static char key;
  for (clockid_t clock : {CLOCK_MONOTONIC, CLOCK_REALTIME}) {
    const timespec cases[] = {
        {0, 0}, {-1, 0}, {-1, 999'999'999}, {-1'000'000'000, 0}, In(clock, -1), In(clock, -kSec),
    };
    for (const timespec& at : cases) {
      SCOPED_TRACE(testing::Message() << "clock " << clock << " at {" << at.tv_sec << ", " << at.tv_nsec << "}");
      Deadline d = Deadline::on(clock, &at);
      const int64_t start = NowNs();
      ParkRecord r = Park(&key, 0, d);
      EXPECT_LT(NowNs() - start, 1 * kSec);
      EXPECT_EQ(r.outcome.result, ParkResult::kTimedOut);
      EXPECT_EQ(r.before_sleep_calls, 1);
      EXPECT_EQ(r.timed_out_calls, 1);
      EXPECT_TRUE(r.key_was_emptied);
      EXPECT_EQ(QueuedOn(&key), 0u);
    }
  }
}

// A deadline is read on its own clock: a REALTIME deadline set from the
// MONOTONIC clock's value (days to decades in the past on REALTIME) passes at
// once, and the other way round never passes within the test.
TEST(ParkingLot, DeadlineIsReadOnItsOwnClock) {
  Watchdog dog("DeadlineIsReadOnItsOwnClock", 60s);
  static char key;
  for (clockid_t clock : {CLOCK_MONOTONIC, CLOCK_REALTIME}) {
    timespec at = In(clock, 30 * kMs);
    ParkRecord r = Park(&key, 0, Deadline::on(clock, &at));
    EXPECT_EQ(r.outcome.result, ParkResult::kTimedOut);
    EXPECT_GE(NowNs(clock), at.tv_sec * kSec + at.tv_nsec) << "woke before its deadline on clock " << clock;
  }
  timespec monotonic_now = In(CLOCK_MONOTONIC, 0);
  ParkRecord r = Park(&key, 0, Deadline::on(CLOCK_REALTIME, &monotonic_now));
  EXPECT_EQ(r.outcome.result, ParkResult::kTimedOut);

  timespec realtime_soon = In(CLOCK_REALTIME, 0);
  Parker far(&key, 9, Deadline::on(CLOCK_MONOTONIC, &realtime_soon));
  ASSERT_TRUE(WaitUntil([&] { return QueuedOn(&key) == 1; }));
  EXPECT_EQ(UnparkOne(&key, 3).unparked_threads, 1u);
  EXPECT_EQ(far.Join().outcome.token, 3u);
}

// Tokens 0..5 queued in order; the filter wakes 0 and 2, skips 1 and 3, stops
// at 4 (so 5 is never even shown to it).
TEST(ParkingLot, UnparkFilterSkipsAndStops) {
  Watchdog dog("UnparkFilterSkipsAndStops", 60s);
  static char key;
  auto parkers = ParkInOrder(&key, 6, 0);
  std::vector<ParkToken> shown;
  shown.reserve(16);  // the filter runs under the bucket lock: no allocation there
  int callbacks = 0;
  UnparkResult r = parklock::unpark_filter(
      &key,
      [&](ParkToken t) {
        shown.push_back(t);
        if (t == 4) return FilterOp::kStop;
        return t % 2 == 0 ? FilterOp::kUnpark : FilterOp::kSkip;
      },
      [&](UnparkResult seen) {
        ++callbacks;
        EXPECT_EQ(seen.unparked_threads, 2u);
        EXPECT_TRUE(seen.have_more_threads);
        // Nobody is woken before the callback has chosen the token.
        EXPECT_FALSE(parkers[0]->done());
        EXPECT_FALSE(parkers[2]->done());
        return UnparkToken(77);
      });
  EXPECT_EQ(callbacks, 1);
  EXPECT_EQ(shown, (std::vector<ParkToken>{0, 1, 2, 3, 4}));
  EXPECT_EQ(r.unparked_threads, 2u);
  EXPECT_TRUE(r.have_more_threads);
  EXPECT_EQ(parkers[0]->Join().outcome.token, 77u);
  EXPECT_EQ(parkers[2]->Join().outcome.token, 77u);
  EXPECT_EQ(QueueOf(&key).ToVector(), (std::vector<ParkToken>{1, 3, 4, 5}));

  // All skipped: nobody woken, "more threads" reported.
  r = parklock::unpark_filter(
      &key, [](ParkToken) { return FilterOp::kSkip; }, [](UnparkResult) { return UnparkToken(0); });
  EXPECT_EQ(r.unparked_threads, 0u);
  EXPECT_TRUE(r.have_more_threads);

  // Stop at once: same.
  r = parklock::unpark_filter(
      &key, [](ParkToken) { return FilterOp::kStop; }, [](UnparkResult) { return UnparkToken(0); });
  EXPECT_EQ(r.unparked_threads, 0u);
  EXPECT_TRUE(r.have_more_threads);

  EXPECT_EQ(parklock::unpark_all(&key, 88), 4u);
  for (int i : {1, 3, 4, 5}) {
    const ParkRecord& rec = parkers[i]->Join();
    EXPECT_EQ(rec.outcome.result, ParkResult::kUnparked);
    EXPECT_EQ(rec.outcome.token, 88u) << i;
  }
  r = parklock::unpark_filter(
      &key, [](ParkToken) { return FilterOp::kUnpark; }, [](UnparkResult) { return UnparkToken(0); });
  EXPECT_EQ(r.unparked_threads, 0u);
  EXPECT_FALSE(r.have_more_threads);
}

// More threads than WakeList defers (16): the rest are woken under the lock.
TEST(ParkingLot, UnparkAllWakesACrowdExactlyOnce) {
  Watchdog dog("UnparkAllWakesACrowdExactlyOnce", 60s);
  static char key;
  constexpr int kThreads = 40;
  std::vector<std::unique_ptr<Parker>> parkers;
  for (int i = 0; i < kThreads; ++i) parkers.push_back(std::make_unique<Parker>(&key, i));
  ASSERT_TRUE(WaitUntil([&] { return QueuedOn(&key) == size_t{kThreads}; }));
  EXPECT_EQ(parklock::unpark_all(&key, 1234), size_t{kThreads});
  for (auto& p : parkers) {
    const ParkRecord& rec = p->Join();
    EXPECT_EQ(rec.outcome.result, ParkResult::kUnparked);
    EXPECT_EQ(rec.outcome.token, 1234u);
  }
  EXPECT_EQ(parklock::unpark_all(&key, 1), 0u);
}

struct RequeueCase {
  RequeueOp op;
  std::vector<ParkToken> woken;        // from the 4 on `from` (tokens 0..3)
  std::vector<ParkToken> left_on_from;
  std::vector<ParkToken> on_to;        // `to` already holds token 100
  size_t requeued;
  bool have_more;
};

class Requeue : public ::testing::TestWithParam<std::tuple<RequeueCase, bool>> {};

// Every RequeueOp, with `from` and `to` in different buckets and in one.
TEST_P(Requeue, MovesAndWakesExactlyAsTheOpSays) {
  Watchdog dog("Requeue.MovesAndWakesExactlyAsTheOpSays", 60s);
  const RequeueCase& c = std::get<0>(GetParam());
  const bool same_bucket = std::get<1>(GetParam());
  static char separate[2];
  const std::vector<const void*> colliding = CollidingKeys(2);
  const void* from = same_bucket ? colliding[0] : &separate[0];
  const void* to = same_bucket ? colliding[1] : &separate[1];

  auto on_from = ParkInOrder(from, 4, 0);
  auto on_to = ParkInOrder(to, 1, 100);
  int validates = 0, callbacks = 0;
  UnparkResult r = parklock::unpark_requeue(
      from, to,
      [&] {
        ++validates;
        return c.op;
      },
      [&](RequeueOp op, UnparkResult seen) {
        ++callbacks;
        EXPECT_EQ(op, c.op);
        EXPECT_EQ(seen.unparked_threads, c.woken.size());
        EXPECT_EQ(seen.requeued_threads, c.requeued);
        return UnparkToken(55);
      });
  EXPECT_EQ(validates, 1);
  EXPECT_EQ(callbacks, c.op == RequeueOp::kAbort ? 0 : 1);
  EXPECT_EQ(r.unparked_threads, c.woken.size());
  EXPECT_EQ(r.requeued_threads, c.requeued);
  EXPECT_EQ(r.have_more_threads, c.have_more);
  for (ParkToken t : c.woken) EXPECT_EQ(on_from[t]->Join().outcome.token, 55u);
  EXPECT_EQ(QueueOf(from).ToVector(), c.left_on_from);
  EXPECT_EQ(QueueOf(to).ToVector(), c.on_to);

  // A requeued thread answers to its new key only, with that key's token.
  EXPECT_EQ(parklock::unpark_all(from, 1), c.left_on_from.size());
  EXPECT_EQ(parklock::unpark_all(to, 2), c.on_to.size());
  for (ParkToken t : c.left_on_from) EXPECT_EQ(on_from[t]->Join().outcome.token, 1u);
  for (ParkToken t : c.on_to) {
    const ParkRecord& rec = t == 100 ? on_to[0]->Join() : on_from[t]->Join();
    EXPECT_EQ(rec.outcome.result, ParkResult::kUnparked);
    EXPECT_EQ(rec.outcome.token, 2u) << t;
  }
}

const RequeueCase kRequeueCases[] = {
    {RequeueOp::kAbort, {}, {0, 1, 2, 3}, {100}, 0, false},
    {RequeueOp::kUnparkOneRequeueRest, {0}, {}, {100, 1, 2, 3}, 3, false},
    {RequeueOp::kRequeueAll, {}, {}, {100, 0, 1, 2, 3}, 4, false},
    {RequeueOp::kUnparkOne, {0}, {1, 2, 3}, {100}, 0, true},
};

std::string RequeueName(const ::testing::TestParamInfo<std::tuple<RequeueCase, bool>>& info) {
  const char* names[] = {"Abort", "UnparkOneRequeueRest", "RequeueAll", "UnparkOne"};
  return std::string(names[int(std::get<0>(info.param).op)]) +
         (std::get<1>(info.param) ? "_SameBucket" : "_OwnBuckets");
}

INSTANTIATE_TEST_SUITE_P(EveryOp, Requeue,
                         ::testing::Combine(::testing::ValuesIn(kRequeueCases), ::testing::Bool()),
                         RequeueName);

TEST(ParkingLot, RequeueOntoItsOwnKeyKeepsEveryoneQueued) {
  Watchdog dog("RequeueOntoItsOwnKeyKeepsEveryoneQueued", 60s);
  static char key;
  auto parkers = ParkInOrder(&key, 3, 0);
  UnparkResult r = parklock::unpark_requeue(
      &key, &key, [] { return RequeueOp::kRequeueAll; }, [](RequeueOp, UnparkResult) { return UnparkToken(0); });
  EXPECT_EQ(r.requeued_threads, 3u);
  EXPECT_EQ(QueueOf(&key).ToVector(), (std::vector<ParkToken>{0, 1, 2}));
  EXPECT_EQ(parklock::unpark_all(&key, 6), 3u);
  for (auto& p : parkers) EXPECT_EQ(p->Join().outcome.token, 6u);
}

// A thread requeued from A to B whose deadline passes on B: timed_out names
// B, and says whether B was emptied.
TEST(ParkingLot, RequeuedThreadTimesOutOnItsNewKey) {
  Watchdog dog("RequeuedThreadTimesOutOnItsNewKey", 60s);
  static char a, b;
  for (bool b_has_another : {false, true}) {
    SCOPED_TRACE(b_has_another ? "B holds another thread" : "B empty");
    std::vector<std::unique_ptr<Parker>> stay;
    if (b_has_another) stay = ParkInOrder(&b, 1, 9);
    timespec at = In(CLOCK_MONOTONIC, 200 * kMs);
    Parker p(&a, 1, Deadline::on(CLOCK_MONOTONIC, &at));
    ASSERT_TRUE(WaitUntil([&] { return QueuedOn(&a) == 1; }));
    UnparkResult r = parklock::unpark_requeue(
        &a, &b, [] { return RequeueOp::kRequeueAll; }, [](RequeueOp, UnparkResult) { return UnparkToken(0); });
    ASSERT_EQ(r.requeued_threads, 1u);
    const ParkRecord& rec = p.Join();
    EXPECT_EQ(rec.outcome.result, ParkResult::kTimedOut);
    EXPECT_EQ(rec.timed_out_key, &b);
    EXPECT_EQ(rec.key_was_emptied, !b_has_another);
    EXPECT_EQ(QueuedOn(&a), 0u);
    EXPECT_EQ(QueuedOn(&b), b_has_another ? 1u : 0u);
    if (b_has_another) {
      EXPECT_EQ(UnparkOne(&b, 4).unparked_threads, 1u);
      EXPECT_EQ(stay[0]->Join().outcome.token, 4u);
    }
  }
}

// Eight keys in one bucket, three threads each, queued interleaved: every
// operation touches only its own key's threads, in that key's FIFO order.
TEST(ParkingLot, KeysSharingABucketStayApart) {
  Watchdog dog("KeysSharingABucketStayApart", 60s);
  constexpr int kKeys = 8, kPerKey = 3;
  const std::vector<const void*> keys = CollidingKeys(kKeys);
  ASSERT_EQ(keys.size(), size_t{kKeys});
  std::vector<std::unique_ptr<Parker>> parkers;  // index round * kKeys + k
  for (int round = 0; round < kPerKey; ++round) {
    for (int k = 0; k < kKeys; ++k) {
      parkers.push_back(std::make_unique<Parker>(keys[k], ParkToken(k * 10 + round)));
      ASSERT_TRUE(WaitUntil([&] { return QueuedOn(keys[k]) == size_t(round + 1); }));
    }
  }
  for (int k = 0; k < kKeys; ++k) {
    std::vector<ParkToken> want;
    for (int round = 0; round < kPerKey; ++round) want.push_back(k * 10 + round);
    EXPECT_EQ(QueueOf(keys[k]).ToVector(), want) << "key " << k;
  }
  // unpark_one on key 0 wakes key 0's head only.
  EXPECT_EQ(UnparkOne(keys[0], 500).unparked_threads, 1u);
  EXPECT_EQ(parkers[0]->Join().outcome.token, 500u);
  // A time-out among colliding keys unlinks only itself.
  timespec past = In(CLOCK_MONOTONIC, -kMs);
  ParkRecord t = Park(keys[3], 99, Deadline::on(CLOCK_MONOTONIC, &past));
  EXPECT_EQ(t.timed_out_key, keys[3]);
  EXPECT_FALSE(t.key_was_emptied);  // key 3 still holds three threads
  // Requeue key 1 onto key 2 (same bucket): order is 2's, then 1's.
  UnparkResult r = parklock::unpark_requeue(
      keys[1], keys[2], [] { return RequeueOp::kRequeueAll; }, [](RequeueOp, UnparkResult) { return UnparkToken(0); });
  EXPECT_EQ(r.requeued_threads, size_t{kPerKey});
  EXPECT_EQ(QueueOf(keys[2]).ToVector(), (std::vector<ParkToken>{20, 21, 22, 10, 11, 12}));
  EXPECT_EQ(QueuedOn(keys[1]), 0u);
  // Filter on key 5 sees key 5's threads only.
  std::array<ParkToken, 8> shown{};
  size_t n = 0;
  parklock::unpark_filter(
      keys[5],
      [&](ParkToken tok) {
        if (n < shown.size()) shown[n] = tok;
        ++n;
        return FilterOp::kSkip;
      },
      [](UnparkResult) { return UnparkToken(0); });
  EXPECT_EQ(n, size_t{kPerKey});
  EXPECT_EQ(shown[0], 50u);
  // Drain in per-key FIFO order with per-position tokens.
  for (int k = 0; k < kKeys; ++k) {
    for (ParkToken want : QueueOf(keys[k]).ToVector()) {
      EXPECT_EQ(UnparkOne(keys[k], 1000 + want).unparked_threads, 1u);
    }
  }
  for (size_t i = 1; i < parkers.size(); ++i) {
    const ParkRecord& rec = parkers[i]->Join();
    const ParkToken mine = ParkToken((i % kKeys) * 10 + i / kKeys);
    EXPECT_EQ(rec.outcome.result, ParkResult::kUnparked);
    EXPECT_EQ(rec.outcome.token, 1000 + mine) << "thread " << mine;
  }
  for (const void* k : keys) EXPECT_EQ(QueuedOn(k), 0u);
}

// A park whose deadline falls just as an unpark arrives: exactly one of the
// two wins. Either the unpark chose the thread (it reports one thread woken,
// and the thread returns kUnparked with that token and never runs
// timed_out) or the thread left by time-out (timed_out ran once, and the
// unpark found nobody). Several pairs run at once, each on its own key.
TEST(ParkingLot, TimeoutRacingUnparkResolvesExactlyOnce) {
  Watchdog dog("TimeoutRacingUnparkResolvesExactlyOnce", 90s);
  constexpr int kPairs = 3;
  constexpr int kRounds = 1500;
  static char keys[kPairs];
  std::atomic<int> wins_unpark{0}, wins_timeout{0}, errors{0};
  auto pair = [&](int p) {
    std::atomic<int> go{-1}, parked{-1}, finished{-1};
    ParkRecord rec;
    std::thread parker([&] {
      std::minstd_rand rng(p * 7919 + 1);
      for (int round = 0; round < kRounds; ++round) {
        SpinUntilEq(go, round);
        timespec at = In(CLOCK_MONOTONIC, int64_t(rng() % 60'000));
        rec = {};
        rec.outcome = parklock::park(
            &keys[p], [] { return true; },
            [&] { parked.store(round, std::memory_order_release); },
            [&](const void* k, bool emptied) {
              ++rec.timed_out_calls;
              rec.timed_out_key = k;
              rec.key_was_emptied = emptied;
            },
            ParkToken(round), Deadline::on(CLOCK_MONOTONIC, &at));
        finished.store(round, std::memory_order_release);
      }
    });
    std::minstd_rand rng(p * 104729 + 3);
    for (int round = 0; round < kRounds; ++round) {
      go.store(round, std::memory_order_release);
      SpinUntilEq(parked, round);
      for (uint32_t i = rng() % 20'000; i > 0; --i) parklock::cpu_relax();
      const UnparkToken token = 10'000 + round;
      UnparkResult r = UnparkOne(&keys[p], token);
      SpinUntilEq(finished, round);
      const bool by_unpark = rec.outcome.result == ParkResult::kUnparked;
      bool ok = (r.unparked_threads == 1) == by_unpark;
      if (by_unpark) {
        ok = ok && rec.outcome.token == token && rec.timed_out_calls == 0;
        wins_unpark.fetch_add(1);
      } else {
        ok = ok && rec.outcome.result == ParkResult::kTimedOut && rec.timed_out_calls == 1 &&
             rec.timed_out_key == &keys[p] && rec.key_was_emptied;
        wins_timeout.fetch_add(1);
      }
      if (!ok && errors.fetch_add(1) < 5) {
        ADD_FAILURE() << "pair " << p << " round " << round << ": unpark woke " << r.unparked_threads
                      << ", park result " << int(rec.outcome.result) << " token " << rec.outcome.token
                      << " timed_out calls " << rec.timed_out_calls;
      }
    }
    parker.join();
    if (QueuedOn(&keys[p]) != 0) errors.fetch_add(1);
  };
  std::vector<std::thread> pairs;
  for (int p = 0; p < kPairs; ++p) pairs.emplace_back(pair, p);
  for (auto& t : pairs) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(wins_unpark.load() + wins_timeout.load(), kPairs * kRounds);
  RecordProperty("unpark_wins", wins_unpark.load());
  RecordProperty("timeout_wins", wins_timeout.load());
}

}  // namespace
}  // namespace parking_lot_test
