/* glibc's lock code and the preload's on the same mutexes: a plugin loaded
 * with RTLD_DEEPBIND binds pthread_mutex_* to libc's, while the program's own
 * calls go to the preload. Mixed use must stay correct: one owner at a time,
 * every blocked thread gets through, error codes as glibc's. Natively both
 * sides are glibc and the output is the same.
 *
 * usage: mixed_lock_code PLUGIN */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "thread_state.h"

typedef int (*lock_fn)(pthread_mutex_t*);
static lock_fn plugin_lock, plugin_trylock, plugin_unlock;
static int (*plugin_timedlock)(pthread_mutex_t*, const struct timespec*);

static void* must_dlsym(void* handle, const char* name) {
  void* f = dlsym(handle, name);
  if (!f) {
    fprintf(stderr, "dlsym %s: %s\n", name, dlerror());
    exit(2);
  }
  return f;
}

/* --- 1. Mutual exclusion under contention, half the threads on each side. */

enum { kThreads = 4, kRounds = 20000 };
static pthread_mutex_t shared = PTHREAD_MUTEX_INITIALIZER;
static long counter;      /* guarded by `shared` */
static atomic_int inside; /* threads between lock and unlock */
static atomic_int overlaps;

static void* exclusion_worker(void* arg) {
  const int via_glibc = (int)(long)arg % 2;
  for (int i = 0; i < kRounds; ++i) {
    via_glibc ? plugin_lock(&shared) : pthread_mutex_lock(&shared);
    if (atomic_fetch_add(&inside, 1) != 0) atomic_fetch_add(&overlaps, 1);
    ++counter;
    /* Now and then a hold long enough for the others to park. */
    if (i % 512 == 0) sleep_ms(1);
    atomic_fetch_sub(&inside, 1);
    via_glibc ? plugin_unlock(&shared) : pthread_mutex_unlock(&shared);
  }
  return NULL;
}

static void mutual_exclusion(void) {
  pthread_t t[kThreads];
  for (long i = 0; i < kThreads; ++i) pthread_create(&t[i], NULL, exclusion_worker, (void*)i);
  for (int i = 0; i < kThreads; ++i) pthread_join(t[i], NULL);
  printf("mutual exclusion: %ld increments (expected %d), %d overlapping holders\n", counter,
         kThreads * kRounds, atomic_load(&overlaps));
}

/* --- 2. Threads of one side blocked while the other side holds. */

static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static atomic_int got_through;
static atomic_int blocked_tids[3];

static void* blocked_locker(void* arg) {
  const int i = (int)(long)arg % 3, via_glibc = (int)(long)arg / 3;
  atomic_store(&blocked_tids[i], gettid());
  via_glibc ? plugin_lock(&held) : pthread_mutex_lock(&held);
  atomic_fetch_add(&got_through, 1);
  via_glibc ? plugin_unlock(&held) : pthread_mutex_unlock(&held);
  return NULL;
}

/* The holder locks through one side, three lockers block through the other
 * (asleep, not spinning), then the holder unlocks: all three must get through. */
static void blocked_behind(const char* holder_side, int holder_via_glibc) {
  atomic_store(&got_through, 0);
  holder_via_glibc ? plugin_lock(&held) : pthread_mutex_lock(&held);
  int busy = holder_via_glibc ? pthread_mutex_trylock(&held) : plugin_trylock(&held);
  pthread_t t[3];
  for (long i = 0; i < 3; ++i) {
    atomic_store(&blocked_tids[i], 0);
    pthread_create(&t[i], NULL, blocked_locker, (void*)(i + (holder_via_glibc ? 0 : 3)));
  }
  int asleep = 0;
  for (int i = 0; i < 3; ++i) {
    while (atomic_load(&blocked_tids[i]) == 0) sched_yield();
    asleep += wait_until_sleeping(atomic_load(&blocked_tids[i]), 5);
  }
  sleep_ms(20); /* long enough for any re-check to come round */
  holder_via_glibc ? plugin_unlock(&held) : pthread_mutex_unlock(&held);
  for (int i = 0; i < 3; ++i) pthread_join(t[i], NULL);
  printf("%s holds, the other side's trylock says %s; %d of 3 blocked lockers asleep, %d got through\n",
         holder_side, busy == EBUSY ? "EBUSY" : "something else", asleep, atomic_load(&got_through));
}

/* --- 3. A timed lock on one side while the other holds: ETIMEDOUT. */

static struct timespec in_20_ms(void) {
  struct timespec at;
  clock_gettime(CLOCK_REALTIME, &at);
  at.tv_nsec += 20 * 1000000L;
  if (at.tv_nsec >= 1000000000L) at.tv_sec += 1, at.tv_nsec -= 1000000000L;
  return at;
}

static void timed_lock_times_out(void) {
  plugin_lock(&held);
  struct timespec at = in_20_ms();
  int ours = pthread_mutex_timedlock(&held, &at);
  plugin_unlock(&held);
  pthread_mutex_lock(&held);
  at = in_20_ms();
  int theirs = plugin_timedlock(&held, &at);
  pthread_mutex_unlock(&held);
  printf("timed lock against the other side's hold: %s, %s\n", ours == ETIMEDOUT ? "ETIMEDOUT" : "?",
         theirs == ETIMEDOUT ? "ETIMEDOUT" : "?");
}

/* --- 4. A condvar broadcast while the other side holds the waiters' mutex. */

static pthread_mutex_t cv_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int generation; /* guarded by cv_mutex */
static atomic_int waiting, woken;

static void* cv_waiter(void* arg) {
  (void)arg;
  pthread_mutex_lock(&cv_mutex);
  const int seen = generation;
  atomic_fetch_add(&waiting, 1);
  while (generation == seen) pthread_cond_wait(&cv, &cv_mutex);
  pthread_mutex_unlock(&cv_mutex);
  atomic_fetch_add(&woken, 1);
  return NULL;
}

static void broadcast_while_other_side_holds(void) {
  pthread_t t[4];
  for (int i = 0; i < 4; ++i) pthread_create(&t[i], NULL, cv_waiter, NULL);
  while (atomic_load(&waiting) < 4) sched_yield();
  plugin_lock(&cv_mutex); /* every waiter is in pthread_cond_wait: it released the mutex */
  ++generation;
  pthread_cond_broadcast(&cv);
  sleep_ms(20);
  plugin_unlock(&cv_mutex);
  for (int i = 0; i < 4; ++i) pthread_join(t[i], NULL);
  printf("broadcast while the plugin holds the mutex: %d of 4 waiters returned\n", atomic_load(&woken));
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s PLUGIN\n", argv[0]);
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0); /* a hang shows how far it got */
  alarm(50); /* a hang fails the run instead of stalling it */
  void* plugin = dlopen(argv[1], RTLD_NOW | RTLD_DEEPBIND);
  if (!plugin) {
    fprintf(stderr, "dlopen: %s\n", dlerror());
    return 2;
  }
  plugin_lock = (lock_fn)must_dlsym(plugin, "plugin_lock");
  plugin_trylock = (lock_fn)must_dlsym(plugin, "plugin_trylock");
  plugin_unlock = (lock_fn)must_dlsym(plugin, "plugin_unlock");
  plugin_timedlock = must_dlsym(plugin, "plugin_timedlock");
  /* The scenario is real only if the plugin really calls libc's code. */
  void* libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
  void* (*bound)(void) = must_dlsym(plugin, "plugin_mutex_lock_function");
  printf("the plugin's pthread_mutex_lock is libc's: %s\n",
         bound() == must_dlsym(libc, "pthread_mutex_lock") ? "yes" : "no");

  mutual_exclusion();
  blocked_behind("glibc's code", 1);
  blocked_behind("the program's code", 0);
  timed_lock_times_out();
  broadcast_while_other_side_holds();
  return 0;
}
