// The host's limits, met from inside lock code: its allocator (which may be
// the very code waiting for the lock), its pthread keys, its address space.
// A thread's first wait must not allocate, and neither all keys in use nor
// an address-space limit may stop a lock from working, as none stops glibc's.
//
// Each scenario wants a process whose parking lot has not started yet, which
// gtest_discover_tests gives it (one process per test).
#include <errno.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "lock_api.h"
#include "test_support.h"

// Counts the allocations a thread makes while it asks to (the test
// executable's malloc and calloc replace glibc's for the whole process, as a
// host's allocator would, and forward to glibc's). A sanitizer brings its
// own allocator, which must stay in charge: there the count is not taken,
// and the address space is not capped (the sanitizer maps as it goes).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define PARKLOCK_TEST_COUNTS_ALLOCATIONS 0
#else
#define PARKLOCK_TEST_COUNTS_ALLOCATIONS 1
#endif
#define PARKLOCK_TEST_UNDER_SANITIZER (!PARKLOCK_TEST_COUNTS_ALLOCATIONS)
namespace {
thread_local bool t_counting_allocations = false;
thread_local int t_allocations = 0;
}  // namespace
#if PARKLOCK_TEST_COUNTS_ALLOCATIONS
extern "C" void* __libc_malloc(size_t size);
extern "C" void* __libc_calloc(size_t count, size_t size);
extern "C" void* malloc(size_t size) {
  if (t_counting_allocations) ++t_allocations;
  return __libc_malloc(size);
}
extern "C" void* calloc(size_t count, size_t size) {
  if (t_counting_allocations) ++t_allocations;
  return __libc_calloc(count, size);
}
#endif

namespace parklock_test {
namespace {

class HostLimits : public ::testing::TestWithParam<const LockApi*> {
 protected:
  const LockApi& api() const { return *GetParam(); }
};

// A new thread waits for `m`, held here until it is blocked; returns how
// many allocations the waiting thread made inside its lock and unlock calls.
int AllocationsOfAFirstWait(const LockApi& api, pthread_mutex_t* m) {
  api.mutex_lock(m);
  std::atomic<int> allocations{-1};
  std::thread waiter([&] {
    t_counting_allocations = true;
    api.mutex_lock(m);
    api.mutex_unlock(m);
    t_counting_allocations = false;
    allocations = t_allocations;
  });
  while (!HasBlockedLocker(m)) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  api.mutex_unlock(m);
  waiter.join();
  return allocations.load();
}

// pthread keys the test holds while it runs (created before the lock code
// first runs, so any key the lock code makes late has a high index).
class HeldKeys {
 public:
  // Creates `count` keys, or as many as glibc gives if `count` < 0.
  explicit HeldKeys(int count) {
    pthread_key_t key;
    while ((count < 0 || int(keys_.size()) < count) && pthread_key_create(&key, nullptr) == 0)
      keys_.push_back(key);
  }
  ~HeldKeys() {
    for (pthread_key_t key : keys_) pthread_key_delete(key);
  }
  size_t size() const { return keys_.size(); }

 private:
  std::vector<pthread_key_t> keys_;
};

// glibc's pthread_setspecific callocs for a key past its first 32; a first
// wait that did so would re-enter an allocator waiting for this very lock.
TEST_P(HostLimits, FirstWaitOfAThreadDoesNotAllocate) {
  if (!PARKLOCK_TEST_COUNTS_ALLOCATIONS) GTEST_SKIP() << "allocations are not counted under a sanitizer";
  Watchdog watchdog("FirstWaitOfAThreadDoesNotAllocate", std::chrono::seconds(60));
  HeldKeys keys(40);
  TestMutex m(api(), Kind::kNormal);
  EXPECT_EQ(AllocationsOfAFirstWait(api(), m.get()), 0);
}

// Every pthread key in use: locks and condvars work on, waits included.
TEST_P(HostLimits, AllPthreadKeysInUse) {
  if (!PARKLOCK_TEST_COUNTS_ALLOCATIONS) GTEST_SKIP() << "allocations are not counted under a sanitizer";
  Watchdog watchdog("AllPthreadKeysInUse", std::chrono::seconds(60));
  HeldKeys keys(-1);
  pthread_key_t one_more;
  ASSERT_EQ(pthread_key_create(&one_more, nullptr), EAGAIN) << "keys held: " << keys.size();
  TestMutex m(api(), Kind::kNormal);
  EXPECT_EQ(AllocationsOfAFirstWait(api(), m.get()), 0);
  TestCond c(api());
  bool ready = false;  // guarded by m
  std::thread waiter([&] {
    api().mutex_lock(m.get());
    while (!ready) api().cond_wait(c.get(), m.get());
    api().mutex_unlock(m.get());
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  api().mutex_lock(m.get());
  ready = true;
  EXPECT_EQ(api().cond_signal(c.get()), 0);
  api().mutex_unlock(m.get());
  waiter.join();
}

// The address space, in bytes, that this process has mapped now.
size_t MappedBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  unsigned long pages = 0;
  if (f) {
    if (std::fscanf(f, "%lu", &pages) != 1) pages = 0;
    std::fclose(f);
  }
  return pages * size_t(sysconf(_SC_PAGESIZE));
}

// While `limit` is set, no new mapping fits. Lifted again at scope exit.
class AddressSpaceFull {
 public:
  AddressSpaceFull() {
    getrlimit(RLIMIT_AS, &saved_);
    rlimit full = saved_;
    full.rlim_cur = MappedBytes();
    ok_ = setrlimit(RLIMIT_AS, &full) == 0;
  }
  ~AddressSpaceFull() { setrlimit(RLIMIT_AS, &saved_); }
  bool ok() const { return ok_; }

 private:
  rlimit saved_;
  bool ok_ = false;
};

// The first wait of the process comes while no memory can be mapped: the
// lock works as glibc's does, and later waits, with memory back, too.
TEST_P(HostLimits, AddressSpaceFullAtTheFirstWait) {
  if (PARKLOCK_TEST_UNDER_SANITIZER) GTEST_SKIP() << "a sanitizer needs to map memory as it runs";
  Watchdog watchdog("AddressSpaceFullAtTheFirstWait", std::chrono::seconds(60));
  TestMutex m(api(), Kind::kNormal);
  std::promise<void> go;
  std::atomic<bool> done{false};
  // Created while memory is available (its stack is a mapping too).
  std::thread waiter([&, go_signal = go.get_future()] {
    go_signal.wait();
    api().mutex_lock(m.get());
    api().mutex_unlock(m.get());
    done = true;
  });
  api().mutex_lock(m.get());
  {
    AddressSpaceFull full;
    ASSERT_TRUE(full.ok());
    void* probe = mmap(nullptr, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    EXPECT_EQ(probe, MAP_FAILED) << "the limit does not hold";
    if (probe != MAP_FAILED) munmap(probe, 1 << 16);
    go.set_value();
    while (!HasBlockedLocker(m.get())) std::this_thread::yield();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    api().mutex_unlock(m.get());
    while (!done) std::this_thread::yield();
  }
  waiter.join();
  // Memory is back: many threads contend (and the parking lot may grow).
  constexpr int kThreads = 32;
  long counter = 0;  // guarded by m
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        api().mutex_lock(m.get());
        ++counter;
        api().mutex_unlock(m.get());
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter, kThreads * 200);
}

INSTANTIATE_TEST_SUITE_P(Backends, HostLimits, AllBackends(), BackendName);

}  // namespace
}  // namespace parklock_test
