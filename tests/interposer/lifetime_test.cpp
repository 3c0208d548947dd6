// Lock lifetime: POSIX lets the last user of a mutex destroy it (and free its
// memory) as soon as it has unlocked it, and lets a condvar be destroyed as
// soon as no thread is blocked on it, e.g. right after a broadcast. The
// thread still on its way out of unlock / wait must not touch the memory
// then. Each slot is filled with a 0xFF pattern when "freed" and checked
// before it is reused: a late write shows up as a changed pattern.
#include <pthread.h>
#include <string.h>

#include <barrier>
#include <cstddef>
#include <memory>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "lock_api.h"
#include "test_support.h"

namespace parklock_test {
namespace {

class Lifetime : public ::testing::TestWithParam<const LockApi*> {
 protected:
  const LockApi& api() const { return *GetParam(); }
};

constexpr unsigned char kFreed = 0xFF;

bool StillFreed(const void* p, size_t n) {
  const auto* bytes = static_cast<const unsigned char*>(p);
  for (size_t i = 0; i < n; ++i) {
    if (bytes[i] != kFreed) return false;
  }
  return true;
}

struct alignas(64) MutexSlot {
  pthread_mutex_t m;
  int refs;  // guarded by m
};

// Three threads share each mutex; the one that drops the last reference
// destroys and "frees" it right after its own unlock.
TEST_P(Lifetime, MutexFreedByItsLastUserRightAfterUnlock) {
  constexpr int kThreads = 3;
  constexpr int kRounds = 10000;
  constexpr int kSlots = 64;
  auto slots = std::make_unique<MutexSlot[]>(kSlots);
  memset(slots.get(), kFreed, sizeof(MutexSlot) * kSlots);
  std::barrier round_start(kThreads);
  std::barrier round_end(kThreads);
  int late_writes = 0;  // written by thread 0 only
  int errors[kThreads] = {};
  Watchdog watchdog("MutexFreedByItsLastUserRightAfterUnlock", std::chrono::seconds(90));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRounds; ++r) {
        MutexSlot& slot = slots[r % kSlots];
        if (t == 0) {
          if (!StillFreed(&slot, sizeof slot)) ++late_writes;
          if (api().mutex_init(&slot.m, nullptr) != 0) ++errors[t];
          slot.refs = kThreads;
        }
        round_start.arrive_and_wait();
        if (api().mutex_lock(&slot.m) != 0) ++errors[t];
        const bool last = --slot.refs == 0;
        if (api().mutex_unlock(&slot.m) != 0) ++errors[t];
        if (last) {
          if (api().mutex_destroy(&slot.m) != 0) ++errors[t];
          memset(&slot, kFreed, sizeof slot);
        }
        round_end.arrive_and_wait();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(late_writes, 0) << "a mutex was written after its last user freed it";
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(errors[t], 0) << "thread " << t;
}

struct alignas(64) CondSlot {
  pthread_cond_t c;
};

// Two waiters block on a condvar; the broadcaster destroys and "frees" it
// right after the broadcast (holding the mutex in even rounds, after
// releasing it in odd ones), while the woken waiters are still returning.
TEST_P(Lifetime, CondvarDestroyedRightAfterBroadcast) {
  constexpr int kWaiters = 2;
  constexpr int kRounds = 2000;
  constexpr int kSlots = 64;
  auto slots = std::make_unique<CondSlot[]>(kSlots);
  memset(slots.get(), kFreed, sizeof(CondSlot) * kSlots);
  TestMutex m(api(), Kind::kNormal);
  TestCond arrived(api());
  int waiting = 0;       // guarded by m
  int released = -1;     // guarded by m: the last round whose broadcast happened
  std::barrier round_start(kWaiters + 1);
  std::barrier round_end(kWaiters + 1);
  int late_writes = 0;   // broadcaster only
  int errors = 0;        // guarded by m
  Watchdog watchdog("CondvarDestroyedRightAfterBroadcast", std::chrono::seconds(90));
  std::vector<std::thread> waiters;
  for (int w = 0; w < kWaiters; ++w) {
    waiters.emplace_back([&] {
      for (int r = 0; r < kRounds; ++r) {
        round_start.arrive_and_wait();
        pthread_cond_t* c = &slots[r % kSlots].c;
        api().mutex_lock(m.get());
        if (++waiting == kWaiters) api().cond_signal(arrived.get());
        while (released < r) {
          if (api().cond_wait(c, m.get()) != 0) ++errors;
        }
        api().mutex_unlock(m.get());
        round_end.arrive_and_wait();
      }
    });
  }
  for (int r = 0; r < kRounds; ++r) {
    CondSlot& slot = slots[r % kSlots];
    if (!StillFreed(&slot, sizeof slot)) ++late_writes;
    EXPECT_EQ(api().cond_init(&slot.c, nullptr), 0);
    round_start.arrive_and_wait();
    api().mutex_lock(m.get());
    while (waiting < kWaiters) api().cond_wait(arrived.get(), m.get());
    waiting = 0;
    released = r;
    EXPECT_EQ(api().cond_broadcast(&slot.c), 0);
    if (r % 2 == 0) {
      EXPECT_EQ(api().cond_destroy(&slot.c), 0);
      memset(&slot, kFreed, sizeof slot);
      api().mutex_unlock(m.get());
    } else {
      api().mutex_unlock(m.get());
      EXPECT_EQ(api().cond_destroy(&slot.c), 0);
      memset(&slot, kFreed, sizeof slot);
    }
    round_end.arrive_and_wait();
  }
  for (auto& th : waiters) th.join();
  EXPECT_EQ(late_writes, 0) << "a condvar was written after it was destroyed";
  EXPECT_EQ(errors, 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, Lifetime, AllBackends(), BackendName);

}  // namespace
}  // namespace parklock_test
