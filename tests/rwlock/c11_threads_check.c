/* C11 <threads.h> mutexes and condition variables, run natively and under the
 * preload: same results either way. With --expect-parklock it also checks
 * that the preload is really loaded (so the test cannot pass vacuously). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <threads.h>
#include <time.h>

#define CHECK(cond)                                                \
  do {                                                             \
    if (!(cond)) {                                                 \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      return 1;                                                    \
    }                                                              \
  } while (0)

enum { kProducers = 4, kItemsEach = 20000, kCapacity = 8 };

static mtx_t g_mtx;
static cnd_t g_not_empty, g_not_full;
static int g_queue[kCapacity];
static int g_head, g_count;
static long g_sum;

static int producer(void* arg) {
  int base = *(int*)arg;
  for (int i = 1; i <= kItemsEach; ++i) {
    if (mtx_lock(&g_mtx) != thrd_success) return 1;
    while (g_count == kCapacity) cnd_wait(&g_not_full, &g_mtx);
    g_queue[(g_head + g_count) % kCapacity] = base + i;
    ++g_count;
    cnd_signal(&g_not_empty);
    mtx_unlock(&g_mtx);
  }
  return 0;
}

static int consumer(void* arg) {
  (void)arg;
  for (int n = 0; n < kProducers * kItemsEach; ++n) {
    mtx_lock(&g_mtx);
    while (g_count == 0) cnd_wait(&g_not_empty, &g_mtx);
    g_sum += g_queue[g_head];
    g_head = (g_head + 1) % kCapacity;
    --g_count;
    cnd_broadcast(&g_not_full);
    mtx_unlock(&g_mtx);
  }
  return 0;
}

static int trylock_from_other_thread(void* arg) { return mtx_trylock((mtx_t*)arg); }

static struct timespec in_ms(long ms) {
  struct timespec t;
  timespec_get(&t, TIME_UTC);
  t.tv_nsec += ms * 1000000L;
  t.tv_sec += t.tv_nsec / 1000000000L;
  t.tv_nsec %= 1000000000L;
  return t;
}

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "--expect-parklock") == 0)
    CHECK(dlsym(RTLD_DEFAULT, "parklock_version") != NULL);

  /* Types and their error codes (glibc 2.36: no type is rejected). */
  mtx_t m;
  CHECK(mtx_init(&m, mtx_plain) == thrd_success);
  CHECK(mtx_lock(&m) == thrd_success);
  CHECK(mtx_trylock(&m) == thrd_busy);
  thrd_t t;
  int res = -1;
  CHECK(thrd_create(&t, trylock_from_other_thread, &m) == thrd_success);
  CHECK(thrd_join(t, &res) == thrd_success && res == thrd_busy);
  struct timespec past = {0, 0}, bad = {0, 1000000000};
  CHECK(mtx_timedlock(&m, &past) == thrd_timedout);
  CHECK(mtx_timedlock(&m, &bad) == thrd_error);
  CHECK(mtx_unlock(&m) == thrd_success);
  mtx_destroy(&m);

  CHECK(mtx_init(&m, mtx_timed) == thrd_success);
  struct timespec soon = in_ms(20);
  CHECK(mtx_timedlock(&m, &soon) == thrd_success);
  CHECK(thrd_create(&t, trylock_from_other_thread, &m) == thrd_success);
  CHECK(thrd_join(t, &res) == thrd_success && res == thrd_busy);
  CHECK(mtx_unlock(&m) == thrd_success);
  mtx_destroy(&m);

  for (int type = mtx_plain | mtx_recursive; type <= (mtx_timed | mtx_recursive); type += 2) {
    CHECK(mtx_init(&m, type) == thrd_success);
    CHECK(mtx_lock(&m) == thrd_success);
    CHECK(mtx_lock(&m) == thrd_success);
    CHECK(mtx_trylock(&m) == thrd_success);
    CHECK(mtx_unlock(&m) == thrd_success && mtx_unlock(&m) == thrd_success &&
          mtx_unlock(&m) == thrd_success);
    CHECK(mtx_unlock(&m) == thrd_error); /* not the owner any more: EPERM */
    mtx_destroy(&m);
  }

  /* cnd_timedwait times out, with the mutex held again on return. */
  cnd_t c;
  CHECK(mtx_init(&m, mtx_plain) == thrd_success);
  CHECK(cnd_init(&c) == thrd_success);
  CHECK(mtx_lock(&m) == thrd_success);
  CHECK(cnd_timedwait(&c, &m, &past) == thrd_timedout);
  struct timespec later = in_ms(20);
  CHECK(cnd_timedwait(&c, &m, &later) == thrd_timedout);
  CHECK(cnd_timedwait(&c, &m, &bad) == thrd_error);
  CHECK(mtx_trylock(&m) == thrd_busy);
  CHECK(cnd_signal(&c) == thrd_success && cnd_broadcast(&c) == thrd_success);
  CHECK(mtx_unlock(&m) == thrd_success);
  cnd_destroy(&c);
  mtx_destroy(&m);

  /* A bounded queue: producers and a consumer, exact sum. */
  CHECK(mtx_init(&g_mtx, mtx_plain) == thrd_success);
  CHECK(cnd_init(&g_not_empty) == thrd_success && cnd_init(&g_not_full) == thrd_success);
  thrd_t producers[kProducers], cons;
  int bases[kProducers];
  CHECK(thrd_create(&cons, consumer, NULL) == thrd_success);
  for (int i = 0; i < kProducers; ++i) {
    bases[i] = i * 1000000;
    CHECK(thrd_create(&producers[i], producer, &bases[i]) == thrd_success);
  }
  for (int i = 0; i < kProducers; ++i) CHECK(thrd_join(producers[i], &res) == thrd_success && res == 0);
  CHECK(thrd_join(cons, &res) == thrd_success && res == 0);
  long expected = 0;
  for (int i = 0; i < kProducers; ++i)
    expected += (long)kItemsEach * bases[i] + (long)kItemsEach * (kItemsEach + 1) / 2;
  CHECK(g_sum == expected);
  printf("c11 threads ok: sum %ld\n", g_sum);
  return 0;
}
