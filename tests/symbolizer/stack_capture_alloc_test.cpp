// What stack_capture calls, counted: this executable interposes the malloc
// family and pthread_mutex_lock (exported to the dlopen'ed libunwind, which
// binds to them) and counts the calls a thread makes while it captures.
//
// Because malloc is interposed here, stack_capture does not ready threads on
// their first capture: this process exercises both walks.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <malloc.h>
#include <pthread.h>

#include <atomic>
#include <cerrno>
#include <thread>

#include "stack_capture.h"

extern "C" {
void* __libc_malloc(size_t size);
void* __libc_calloc(size_t count, size_t size);
void* __libc_realloc(void* pointer, size_t size);
void* __libc_memalign(size_t alignment, size_t size);
void __libc_free(void* pointer);
}

namespace {

thread_local bool t_counting = false;
thread_local int t_allocations = 0;
thread_local int t_mutex_locks = 0;

void count_allocation() {
  if (t_counting) ++t_allocations;
}

using MutexLock = int (*)(pthread_mutex_t*);
std::atomic<MutexLock> g_real_mutex_lock{nullptr};

struct Counts {
  int allocations = 0;
  int mutex_locks = 0;
};

// Runs `work` on this thread and returns what it called.
template <typename Work>
Counts count_calls(Work work) {
  t_allocations = 0;
  t_mutex_locks = 0;
  t_counting = true;
  work();
  t_counting = false;
  return {t_allocations, t_mutex_locks};
}

}  // namespace

extern "C" {

void* malloc(size_t size) {
  count_allocation();
  return __libc_malloc(size);
}
void* calloc(size_t count, size_t size) {
  count_allocation();
  return __libc_calloc(count, size);
}
void* realloc(void* pointer, size_t size) {
  count_allocation();
  return __libc_realloc(pointer, size);
}
void* memalign(size_t alignment, size_t size) {
  count_allocation();
  return __libc_memalign(alignment, size);
}
void* aligned_alloc(size_t alignment, size_t size) {
  count_allocation();
  return __libc_memalign(alignment, size);
}
int posix_memalign(void** pointer, size_t alignment, size_t size) {
  count_allocation();
  void* memory = __libc_memalign(alignment, size);
  if (memory == nullptr) return ENOMEM;
  *pointer = memory;
  return 0;
}
void free(void* pointer) { __libc_free(pointer); }

int pthread_mutex_lock(pthread_mutex_t* mutex) {
  if (t_counting) ++t_mutex_locks;
  MutexLock real = g_real_mutex_lock.load(std::memory_order_acquire);
  if (real == nullptr) {
    // dlsym takes only the loader's internal locks, never this function.
    real = reinterpret_cast<MutexLock>(dlsym(RTLD_NEXT, "pthread_mutex_lock"));
    g_real_mutex_lock.store(real, std::memory_order_release);
  }
  return real(mutex);
}

}  // extern "C"

namespace {

// One call site, so that repeated captures walk the same return addresses.
__attribute__((noipa)) int capture_here(uintptr_t* pcs) {
  const int frames = parklock::stack_capture(pcs, 8, 0);
  __asm__ volatile("" ::: "memory");
  return frames;
}

struct Walk {
  int frames = 0;
  uintptr_t pcs[8] = {};
  Counts counts;
};

Walk walk() {
  Walk result;
  result.counts = count_calls([&] { result.frames = capture_here(result.pcs); });
  return result;
}

bool same_frames(const Walk& a, const Walk& b) {
  if (a.frames != b.frames) return false;
  for (int i = 0; i < a.frames; ++i) {
    if (a.pcs[i] != b.pcs[i]) return false;
  }
  return true;
}

TEST(StackCaptureCalls, CountersSeeInterposedCalls) {
  // Otherwise every zero below would prove nothing.
  const Counts counts = count_calls([] {
    free(malloc(16));
    pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&mutex);
    pthread_mutex_unlock(&mutex);
  });
  EXPECT_EQ(counts.allocations, 1);
  EXPECT_EQ(counts.mutex_locks, 1);
}

TEST(StackCaptureCalls, InitThreadCapturesWithoutAllocating) {
  ASSERT_TRUE(parklock::stack_capture_init());
  Walk walks[2];
  for (Walk& w : walks) w = walk();  // one call site: the same stack twice
  const Walk& first = walks[0];
  const Walk& again = walks[1];
  ASSERT_GT(first.frames, 2);
  EXPECT_TRUE(same_frames(first, again));
  // New return addresses take libunwind's internal mutexes, never malloc.
  EXPECT_EQ(first.counts.allocations, 0);
  // Every address seen before: no lock either.
  EXPECT_EQ(again.counts.allocations, 0);
  EXPECT_EQ(again.counts.mutex_locks, 0);
}

TEST(StackCaptureCalls, NewThreadCapturesWithoutAllocatingBeforeAndAfterThreadInit) {
  ASSERT_TRUE(parklock::stack_capture_init());
  std::thread([] {
    // Walks 0 and 1 on an unready thread (the plain unw_step walk), then the
    // thread is readied, then walks 2 and 3 (the fast trace); all from one
    // call site.
    Walk walks[4];
    Counts readying;
    for (int i = 0; i < 4; ++i) {
      if (i == 2) readying = count_calls([] { parklock::stack_capture_thread_init(); });
      walks[i] = walk();
    }
    for (const Walk& w : walks) EXPECT_EQ(w.counts.allocations, 0);
    // The unready walk takes libunwind's internal mutexes at every step (so
    // the counter does see libunwind's calls); the ready one, on addresses it
    // has seen, none.
    EXPECT_GT(walks[1].counts.mutex_locks, 0);
    EXPECT_EQ(walks[3].counts.mutex_locks, 0);
    // Readying is what allocates (glibc's first touch of libunwind's
    // thread-local block), which is why it must happen outside lock code.
    EXPECT_GT(readying.allocations, 0);

    // Both walks see the same stack.
    ASSERT_GT(walks[0].frames, 2);
    for (int i = 1; i < 4; ++i) EXPECT_TRUE(same_frames(walks[0], walks[i])) << "walk " << i;
  }).join();
}

}  // namespace
