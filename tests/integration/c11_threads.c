/* C11 <threads.h>: mtx_plain / mtx_recursive / mtx_timed, cnd_wait /
 * cnd_timedwait / cnd_signal / cnd_broadcast, with results fixed by the
 * program. glibc's mtx_* and cnd_* call its pthread code internally, so the
 * preload must serve these names itself. */
#include <stdint.h>
#include <stdio.h>
#include <threads.h>
#include <time.h>

static const char* rc_name(int rc) {
  switch (rc) {
    case thrd_success: return "success";
    case thrd_busy: return "busy";
    case thrd_timedout: return "timedout";
    case thrd_error: return "error";
    case thrd_nomem: return "nomem";
    default: return "other";
  }
}

static struct timespec in_ms(long ms) {
  struct timespec t;
  timespec_get(&t, TIME_UTC);
  t.tv_sec += ms / 1000;
  t.tv_nsec += (ms % 1000) * 1000000L;
  if (t.tv_nsec >= 1000000000L) {
    t.tv_sec += 1;
    t.tv_nsec -= 1000000000L;
  }
  return t;
}

/* ---- Counters on each mutex type ---------------------------------------- */

static mtx_t counter_mtx;
static int counter_type;
static long counter; /* guarded by counter_mtx */

static int count_thread(void* arg) {
  (void)arg;
  for (int i = 0; i < 40000; ++i) {
    if (counter_type & mtx_timed && i % 2) {
      struct timespec at = in_ms(20000);
      if (mtx_timedlock(&counter_mtx, &at) != thrd_success) return 1;
    } else if (i % 3 == 0) {
      while (mtx_trylock(&counter_mtx) != thrd_success) thrd_yield();
    } else {
      mtx_lock(&counter_mtx);
    }
    if (counter_type & mtx_recursive) {
      mtx_lock(&counter_mtx);
      ++counter;
      mtx_unlock(&counter_mtx);
    }
    ++counter;
    mtx_unlock(&counter_mtx);
  }
  return 0;
}

static void counters(void) {
  const int types[] = {mtx_plain, mtx_recursive, mtx_timed, mtx_timed | mtx_recursive};
  const char* names[] = {"plain", "recursive", "timed", "timed|recursive"};
  for (int k = 0; k < 4; ++k) {
    counter_type = types[k];
    counter = 0;
    int init = mtx_init(&counter_mtx, types[k]);
    thrd_t threads[8];
    for (int t = 0; t < 8; ++t) thrd_create(&threads[t], count_thread, NULL);
    int failures = 0;
    for (int t = 0; t < 8; ++t) {
      int res = 0;
      thrd_join(threads[t], &res);
      failures += res;
    }
    mtx_destroy(&counter_mtx);
    printf("mtx %-15s init %s, counter %ld, failed timed locks %d\n", names[k], rc_name(init),
           counter, failures);
  }
}

/* ---- Busy and timeout results while another thread holds the mutex ------ */

static mtx_t held;
static cnd_t held_cnd;
static int held_state; /* guarded by held: 1 locked by holder, 2 release */

static int holder_thread(void* arg) {
  mtx_t* m = arg;
  mtx_lock(m);
  mtx_lock(&held);
  held_state = 1;
  cnd_broadcast(&held_cnd);
  while (held_state != 2) cnd_wait(&held_cnd, &held);
  mtx_unlock(&held);
  mtx_unlock(m);
  return 0;
}

static void contended_results(void) {
  mtx_t m;
  mtx_init(&m, mtx_timed);
  mtx_init(&held, mtx_plain);
  cnd_init(&held_cnd);
  thrd_t t;
  thrd_create(&t, holder_thread, &m);
  mtx_lock(&held);
  while (held_state != 1) cnd_wait(&held_cnd, &held);
  mtx_unlock(&held);
  struct timespec soon = in_ms(30);
  struct timespec past = in_ms(-1000);
  int trylock = mtx_trylock(&m);
  int timed = mtx_timedlock(&m, &soon);
  int timed_past = mtx_timedlock(&m, &past);
  mtx_lock(&held);
  held_state = 2;
  cnd_broadcast(&held_cnd);
  mtx_unlock(&held);
  thrd_join(t, NULL);
  struct timespec later = in_ms(10000);
  int after = mtx_timedlock(&m, &later);
  mtx_unlock(&m);
  printf("held elsewhere: trylock %s, timedlock(30ms) %s, timedlock(past) %s; after release %s\n",
         rc_name(trylock), rc_name(timed), rc_name(timed_past), rc_name(after));
  mtx_destroy(&m);
  mtx_destroy(&held);
  cnd_destroy(&held_cnd);
}

/* ---- Condition variables ------------------------------------------------- */

#define CAP 4
#define ITEMS 100000

static mtx_t q_mtx;
static cnd_t q_not_full, q_not_empty;
static unsigned q_items[CAP]; /* guarded by q_mtx */
static int q_head, q_size;    /* guarded by q_mtx */

static int produce(void* arg) {
  (void)arg;
  unsigned x = 777;
  for (int i = 0; i < ITEMS; ++i) {
    x = x * 1664525u + 1013904223u;
    mtx_lock(&q_mtx);
    while (q_size == CAP) cnd_wait(&q_not_full, &q_mtx);
    q_items[(q_head + q_size) % CAP] = x;
    ++q_size;
    cnd_signal(&q_not_empty);
    mtx_unlock(&q_mtx);
  }
  return 0;
}

static void ordered_queue(void) {
  mtx_init(&q_mtx, mtx_plain);
  cnd_init(&q_not_full);
  cnd_init(&q_not_empty);
  thrd_t t;
  thrd_create(&t, produce, NULL);
  uint64_t hash = 0;
  for (int i = 0; i < ITEMS; ++i) {
    mtx_lock(&q_mtx);
    while (q_size == 0) {
      if (i % 2) {
        cnd_wait(&q_not_empty, &q_mtx);
      } else {
        struct timespec at = in_ms(2);
        cnd_timedwait(&q_not_empty, &q_mtx, &at);
      }
    }
    hash = hash * 1000003u + q_items[q_head];
    q_head = (q_head + 1) % CAP;
    --q_size;
    cnd_signal(&q_not_full);
    mtx_unlock(&q_mtx);
  }
  thrd_join(t, NULL);
  printf("cnd queue: %d items, ordered hash %016llx\n", ITEMS, (unsigned long long)hash);

  mtx_lock(&q_mtx);
  struct timespec at = in_ms(20);
  int rc;
  while ((rc = cnd_timedwait(&q_not_empty, &q_mtx, &at)) == thrd_success) {
  }
  int relock = mtx_trylock(&q_mtx);
  mtx_unlock(&q_mtx);
  printf("cnd_timedwait with no signal: %s, mutex held after: %s\n", rc_name(rc),
         relock == thrd_busy ? "yes" : "no");
  mtx_destroy(&q_mtx);
  cnd_destroy(&q_not_full);
  cnd_destroy(&q_not_empty);
}

/* A generation barrier through cnd_broadcast. */
#define BARRIER_THREADS 8
#define BARRIER_ROUNDS 300

static mtx_t b_mtx;
static cnd_t b_cnd;
static int b_arrived, b_generation; /* guarded by b_mtx */
static long b_total;                /* guarded by b_mtx */

static int barrier_thread(void* arg) {
  const long id = (long)(intptr_t)arg;
  for (int r = 0; r < BARRIER_ROUNDS; ++r) {
    mtx_lock(&b_mtx);
    b_total += (id + 1) * (r + 1);
    const int gen = b_generation;
    if (++b_arrived == BARRIER_THREADS) {
      b_arrived = 0;
      ++b_generation;
      cnd_broadcast(&b_cnd);
    } else {
      while (b_generation == gen) cnd_wait(&b_cnd, &b_mtx);
    }
    mtx_unlock(&b_mtx);
  }
  return 0;
}

static void broadcast_barrier(void) {
  mtx_init(&b_mtx, mtx_plain);
  cnd_init(&b_cnd);
  thrd_t threads[BARRIER_THREADS];
  for (long t = 0; t < BARRIER_THREADS; ++t) {
    thrd_create(&threads[t], barrier_thread, (void*)(intptr_t)t);
  }
  for (int t = 0; t < BARRIER_THREADS; ++t) thrd_join(threads[t], NULL);
  printf("cnd_broadcast barrier: %d generations, total %ld\n", b_generation, b_total);
  mtx_destroy(&b_mtx);
  cnd_destroy(&b_cnd);
}

int main(void) {
  counters();
  contended_results();
  ordered_queue();
  broadcast_barrier();
  return 0;
}
