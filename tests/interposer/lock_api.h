// lock_api.h: glibc's and parklock's mutex and condvar calls behind one table.
//
// Every scenario in this suite runs once per table entry and asserts glibc's
// documented result for both: the glibc run proves the expectation is
// glibc's, the parklock run proves parklock matches it. The tests link
// parklock_core (no pthread_* interposition), so the pthread_* names below
// are glibc's own.
#pragma once

#include <pthread.h>
#include <time.h>

#include <future>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "parklock.h"

namespace parklock_test {

struct LockApi {
  const char* name;

  int (*mutex_init)(pthread_mutex_t*, const pthread_mutexattr_t*);
  int (*mutex_destroy)(pthread_mutex_t*);
  int (*mutex_lock)(pthread_mutex_t*);
  int (*mutex_trylock)(pthread_mutex_t*);
  int (*mutex_timedlock)(pthread_mutex_t*, const timespec*);
  int (*mutex_clocklock)(pthread_mutex_t*, clockid_t, const timespec*);
  int (*mutex_unlock)(pthread_mutex_t*);

  int (*cond_init)(pthread_cond_t*, const pthread_condattr_t*);
  int (*cond_destroy)(pthread_cond_t*);
  int (*cond_wait)(pthread_cond_t*, pthread_mutex_t*);
  int (*cond_timedwait)(pthread_cond_t*, pthread_mutex_t*, const timespec*);
  int (*cond_clockwait)(pthread_cond_t*, pthread_mutex_t*, clockid_t, const timespec*);
  int (*cond_signal)(pthread_cond_t*);
  int (*cond_broadcast)(pthread_cond_t*);
};

inline const LockApi kGlibc = {
    "glibc",
    pthread_mutex_init, pthread_mutex_destroy, pthread_mutex_lock, pthread_mutex_trylock,
    pthread_mutex_timedlock, pthread_mutex_clocklock, pthread_mutex_unlock,
    pthread_cond_init, pthread_cond_destroy, pthread_cond_wait, pthread_cond_timedwait,
    pthread_cond_clockwait, pthread_cond_signal, pthread_cond_broadcast,
};

inline const LockApi kParklock = {
    "parklock",
    parklock_mutex_init, parklock_mutex_destroy, parklock_mutex_lock, parklock_mutex_trylock,
    parklock_mutex_timedlock, parklock_mutex_clocklock, parklock_mutex_unlock,
    parklock_cond_init, parklock_cond_destroy, parklock_cond_wait, parklock_cond_timedwait,
    parklock_cond_clockwait, parklock_cond_signal, parklock_cond_broadcast,
};

// For INSTANTIATE_TEST_SUITE_P: both backends, named in the test name.
inline auto AllBackends() { return ::testing::Values(&kGlibc, &kParklock); }

inline std::string BackendName(const ::testing::TestParamInfo<const LockApi*>& info) {
  return info.param->name;
}

// The mutex kinds glibc offers through pthread_mutexattr_settype.
enum class Kind { kNormal, kRecursive, kErrorcheck, kAdaptive };

inline int PthreadType(Kind kind) {
  switch (kind) {
    case Kind::kNormal: return PTHREAD_MUTEX_NORMAL;
    case Kind::kRecursive: return PTHREAD_MUTEX_RECURSIVE;
    case Kind::kErrorcheck: return PTHREAD_MUTEX_ERRORCHECK;
    case Kind::kAdaptive: return PTHREAD_MUTEX_ADAPTIVE_NP;
  }
  return PTHREAD_MUTEX_NORMAL;
}

inline const char* KindName(Kind kind) {
  switch (kind) {
    case Kind::kNormal: return "normal";
    case Kind::kRecursive: return "recursive";
    case Kind::kErrorcheck: return "errorcheck";
    case Kind::kAdaptive: return "adaptive";
  }
  return "?";
}

inline auto AllKinds() {
  return ::testing::Values(Kind::kNormal, Kind::kRecursive, Kind::kErrorcheck, Kind::kAdaptive);
}

// A mutex initialized through `api` with the given kind (and optionally
// process-shared), destroyed through `api` at scope exit.
class TestMutex {
 public:
  TestMutex(const LockApi& api, Kind kind, bool process_shared = false) : api_(api) {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PthreadType(kind));
    if (process_shared) pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    init_result_ = api_.mutex_init(&m_, &attr);
    pthread_mutexattr_destroy(&attr);
  }
  ~TestMutex() { EXPECT_EQ(api_.mutex_destroy(&m_), 0) << api_.name << " mutex_destroy"; }
  TestMutex(const TestMutex&) = delete;
  TestMutex& operator=(const TestMutex&) = delete;

  pthread_mutex_t* get() { return &m_; }
  int init_result() const { return init_result_; }

 private:
  const LockApi& api_;
  pthread_mutex_t m_;
  int init_result_;
};

// A condition variable initialized through `api` on the given clock.
class TestCond {
 public:
  explicit TestCond(const LockApi& api, clockid_t clock = CLOCK_REALTIME,
                    bool process_shared = false)
      : api_(api) {
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, clock);
    if (process_shared) pthread_condattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    init_result_ = api_.cond_init(&c_, &attr);
    pthread_condattr_destroy(&attr);
  }
  ~TestCond() { EXPECT_EQ(api_.cond_destroy(&c_), 0) << api_.name << " cond_destroy"; }
  TestCond(const TestCond&) = delete;
  TestCond& operator=(const TestCond&) = delete;

  pthread_cond_t* get() { return &c_; }
  int init_result() const { return init_result_; }

 private:
  const LockApi& api_;
  pthread_cond_t c_;
  int init_result_;
};

// Holds a mutex on another thread from construction until Release() (or
// destruction), so the calling thread can probe a lock it does not own.
class Holder {
 public:
  Holder(const LockApi& api, pthread_mutex_t* m) {
    std::promise<int> locked;
    std::future<int> locked_result = locked.get_future();
    thread_ = std::thread(
        [this, &api, m, locked = std::move(locked), release = release_.get_future()]() mutable {
          locked.set_value(api.mutex_lock(m));
          release.wait();
          unlock_result_ = api.mutex_unlock(m);
        });
    lock_result_ = locked_result.get();
  }
  ~Holder() { Release(); }
  Holder(const Holder&) = delete;
  Holder& operator=(const Holder&) = delete;

  int lock_result() const { return lock_result_; }
  // Makes the holder unlock and waits for it; returns the unlock's result.
  int Release() {
    if (thread_.joinable()) {
      release_.set_value();
      thread_.join();
    }
    return unlock_result_;
  }

 private:
  std::promise<void> release_;
  std::thread thread_;
  int lock_result_ = -1;
  int unlock_result_ = -1;
};

}  // namespace parklock_test
