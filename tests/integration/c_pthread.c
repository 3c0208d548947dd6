/* Plain C pthread code: every mutex kind (attribute and static initializer),
 * condition variables, the error codes glibc gives, fork() with held locks,
 * and a process-shared mutex + condvar across fork. All output is fixed by
 * the program. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Marks a check that does not apply to a kind (unlocking a normal mutex one
 * does not own is undefined). */
#define NOT_APPLICABLE (-2)

static const char* err_name(int e) {
  switch (e) {
    case 0: return "0";
    case EBUSY: return "EBUSY";
    case EDEADLK: return "EDEADLK";
    case EPERM: return "EPERM";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EINVAL: return "EINVAL";
    case EAGAIN: return "EAGAIN";
    case NOT_APPLICABLE: return "n/a";
    default: return "other";
  }
}

static struct timespec in_ms(clockid_t clock, long ms) {
  struct timespec t;
  clock_gettime(clock, &t);
  t.tv_sec += ms / 1000;
  t.tv_nsec += (ms % 1000) * 1000000L;
  if (t.tv_nsec >= 1000000000L) {
    t.tv_sec += 1;
    t.tv_nsec -= 1000000000L;
  } else if (t.tv_nsec < 0) {
    t.tv_sec -= 1;
    t.tv_nsec += 1000000000L;
  }
  return t;
}

/* ---- Error codes ------------------------------------------------------- */

struct probe {
  pthread_mutex_t* m;
  int what; /* 0 trylock, 1 timedlock past, 2 bad nsec, 3 unlock */
  int result;
};

static void* probe_thread(void* arg) {
  struct probe* p = arg;
  struct timespec past = in_ms(CLOCK_REALTIME, -1000);
  struct timespec bad = in_ms(CLOCK_REALTIME, 10000);
  bad.tv_nsec = 1000000000L;
  switch (p->what) {
    case 0: p->result = pthread_mutex_trylock(p->m); break;
    case 1: p->result = pthread_mutex_timedlock(p->m, &past); break;
    case 2: p->result = pthread_mutex_timedlock(p->m, &bad); break;
    default: p->result = pthread_mutex_unlock(p->m); break;
  }
  return NULL;
}

/* Runs probe `what` on another thread and returns its result. */
static int from_other_thread(pthread_mutex_t* m, int what) {
  struct probe p = {m, what, -1};
  pthread_t t;
  pthread_create(&t, NULL, probe_thread, &p);
  pthread_join(t, NULL);
  return p.result;
}

static void error_codes(void) {
  static pthread_mutex_t normal = PTHREAD_MUTEX_INITIALIZER;
  static pthread_mutex_t recursive = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
  static pthread_mutex_t errorcheck = PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP;
  static pthread_mutex_t adaptive = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;
  pthread_mutex_t* all[] = {&normal, &recursive, &errorcheck, &adaptive};
  const char* names[] = {"normal", "recursive", "errorcheck", "adaptive"};

  for (int i = 0; i < 4; ++i) {
    pthread_mutex_t* m = all[i];
    int lock1 = pthread_mutex_lock(m);
    int self_try = pthread_mutex_trylock(m);
    if (self_try == 0) pthread_mutex_unlock(m);
    int other_try = from_other_thread(m, 0);
    int other_past = from_other_thread(m, 1);
    int other_bad_nsec = from_other_thread(m, 2);
    int other_unlock = i == 0 || i == 3 ? NOT_APPLICABLE : from_other_thread(m, 3);
    int destroy_held = pthread_mutex_destroy(m);
    int unlock1 = pthread_mutex_unlock(m);
    int unlock2 = i == 0 || i == 3 ? NOT_APPLICABLE : pthread_mutex_unlock(m);
    struct timespec bad = in_ms(CLOCK_REALTIME, 10000);
    bad.tv_nsec = -1;
    int free_bad_nsec = pthread_mutex_timedlock(m, &bad);
    if (free_bad_nsec == 0) pthread_mutex_unlock(m);
    struct timespec soon = in_ms(CLOCK_MONOTONIC, 10000);
    int cpu_clock = pthread_mutex_clocklock(m, CLOCK_PROCESS_CPUTIME_ID, &soon);
    printf("%-10s lock %s, self trylock %s, other trylock %s, other timedlock(past) %s, "
           "other timedlock(bad nsec) %s, other unlock %s, destroy held %s, unlock %s, "
           "unlock again %s, timedlock(bad nsec) when free %s, clocklock(cpu clock) %s\n",
           names[i], err_name(lock1), err_name(self_try), err_name(other_try),
           err_name(other_past), err_name(other_bad_nsec), err_name(other_unlock),
           err_name(destroy_held), err_name(unlock1), err_name(unlock2), err_name(free_bad_nsec),
           err_name(cpu_clock));
  }

  pthread_mutex_lock(&errorcheck);
  struct timespec soon = in_ms(CLOCK_REALTIME, 10000);
  printf("errorcheck relock: lock %s, timedlock %s, clocklock %s\n",
         err_name(pthread_mutex_lock(&errorcheck)),
         err_name(pthread_mutex_timedlock(&errorcheck, &soon)),
         err_name(pthread_mutex_clocklock(&errorcheck, CLOCK_REALTIME, &soon)));
  pthread_mutex_unlock(&errorcheck);

  int depth = 0;
  while (depth < 5 && pthread_mutex_trylock(&recursive) == 0) ++depth;
  int unlocked = 0;
  while (pthread_mutex_unlock(&recursive) == 0) ++unlocked;
  printf("recursive: trylock depth %d, unlocked %d times\n", depth, unlocked);

  pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
  pthread_mutex_lock(&errorcheck);
  struct timespec past = in_ms(CLOCK_REALTIME, -1000);
  struct timespec bad = in_ms(CLOCK_REALTIME, 10000);
  bad.tv_nsec = 1000000000L;
  int cond_past = pthread_cond_timedwait(&cond, &errorcheck, &past);
  int cond_bad = pthread_cond_timedwait(&cond, &errorcheck, &bad);
  struct timespec mono = in_ms(CLOCK_MONOTONIC, -5);
  int clock_past = pthread_cond_clockwait(&cond, &errorcheck, CLOCK_MONOTONIC, &mono);
  int clock_cpu = pthread_cond_clockwait(&cond, &errorcheck, CLOCK_THREAD_CPUTIME_ID, &mono);
  int still_held = pthread_mutex_unlock(&errorcheck);
  int unowned_wait = pthread_cond_timedwait(&cond, &errorcheck, &past);
  printf("cond: timedwait(past) %s, timedwait(bad nsec) %s, clockwait(past) %s, "
         "clockwait(cpu clock) %s, unlock after %s, wait on unowned errorcheck %s\n",
         err_name(cond_past), err_name(cond_bad), err_name(clock_past), err_name(clock_cpu),
         err_name(still_held), err_name(unowned_wait));
}

/* ---- Contended counters on each kind ------------------------------------ */

struct counter {
  pthread_mutex_t m;
  long value; /* guarded by m */
};

static void* count_thread(void* arg) {
  struct counter* c = arg;
  for (int i = 0; i < 40000; ++i) {
    if (i % 3 == 0) {
      while (pthread_mutex_trylock(&c->m) != 0) sched_yield();
    } else {
      pthread_mutex_lock(&c->m);
    }
    ++c->value;
    pthread_mutex_unlock(&c->m);
  }
  return NULL;
}

static void contended_counters(void) {
  const int types[] = {PTHREAD_MUTEX_NORMAL, PTHREAD_MUTEX_RECURSIVE, PTHREAD_MUTEX_ERRORCHECK,
                       PTHREAD_MUTEX_ADAPTIVE_NP};
  const char* names[] = {"normal", "recursive", "errorcheck", "adaptive"};
  for (int k = 0; k < 4; ++k) {
    struct counter c = {.value = 0};
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, types[k]);
    pthread_mutex_init(&c.m, &attr);
    pthread_mutexattr_destroy(&attr);
    pthread_t threads[8];
    for (int t = 0; t < 8; ++t) pthread_create(&threads[t], NULL, count_thread, &c);
    for (int t = 0; t < 8; ++t) pthread_join(threads[t], NULL);
    printf("%-10s counter %ld, destroy %s\n", names[k], c.value,
           err_name(pthread_mutex_destroy(&c.m)));
  }
}

/* ---- Condition variable: bounded queue, ordered checksum ----------------- */

#define QUEUE_CAP 4
#define QUEUE_ITEMS 100000

static struct {
  pthread_mutex_t m;
  pthread_cond_t not_full, not_empty;
  unsigned items[QUEUE_CAP]; /* guarded by m */
  int head, size;            /* guarded by m */
} queue = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER,
           {0}, 0, 0};

static void* producer(void* arg) {
  (void)arg;
  unsigned x = 12345;
  for (int i = 0; i < QUEUE_ITEMS; ++i) {
    x = x * 1103515245u + 12345u;
    pthread_mutex_lock(&queue.m);
    while (queue.size == QUEUE_CAP) pthread_cond_wait(&queue.not_full, &queue.m);
    queue.items[(queue.head + queue.size) % QUEUE_CAP] = x;
    ++queue.size;
    pthread_cond_signal(&queue.not_empty);
    pthread_mutex_unlock(&queue.m);
  }
  return NULL;
}

static void ordered_queue(void) {
  pthread_t t;
  pthread_create(&t, NULL, producer, NULL);
  uint64_t hash = 0;
  for (int i = 0; i < QUEUE_ITEMS; ++i) {
    pthread_mutex_lock(&queue.m);
    while (queue.size == 0) {
      /* Alternate plain and timed waits; a timeout just loops. */
      if (i % 2) {
        pthread_cond_wait(&queue.not_empty, &queue.m);
      } else {
        struct timespec at = in_ms(CLOCK_REALTIME, 2);
        pthread_cond_timedwait(&queue.not_empty, &queue.m, &at);
      }
    }
    hash = hash * 1000003u + queue.items[queue.head];
    queue.head = (queue.head + 1) % QUEUE_CAP;
    --queue.size;
    pthread_cond_broadcast(&queue.not_full);
    pthread_mutex_unlock(&queue.m);
  }
  pthread_join(t, NULL);
  printf("queue: %d items, ordered hash %016llx\n", QUEUE_ITEMS, (unsigned long long)hash);
}

/* ---- fork() ---------------------------------------------------------------- */

static void fork_with_held_locks(void) {
  pthread_mutex_t normal = PTHREAD_MUTEX_INITIALIZER;
  pthread_mutex_t errorcheck = PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP;
  pthread_mutex_lock(&normal);
  pthread_mutex_lock(&errorcheck);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    /* The child's thread has a new id: glibc says it does not own the
     * errorcheck mutex; the normal one it may unlock and reuse. */
    int e_unlock = pthread_mutex_unlock(&errorcheck);
    int n_unlock = pthread_mutex_unlock(&normal);
    int n_relock = pthread_mutex_lock(&normal);
    int n_unlock2 = pthread_mutex_unlock(&normal);
    printf("child: errorcheck unlock %s, normal unlock %s, relock %s, unlock %s\n",
           err_name(e_unlock), err_name(n_unlock), err_name(n_relock), err_name(n_unlock2));
    fflush(stdout);
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  pthread_mutex_unlock(&errorcheck);
  pthread_mutex_unlock(&normal);
  printf("parent: child exit %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

struct shared_ping {
  pthread_mutex_t m;
  pthread_cond_t c;
  int turn;  /* guarded by m */
  int count; /* guarded by m */
};

static void process_shared_ping_pong(void) {
  const int rounds = 300;
  struct shared_ping* s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE,
                               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (s == MAP_FAILED) {
    printf("mmap failed\n");
    return;
  }
  memset(s, 0, sizeof *s);
  pthread_mutexattr_t ma;
  pthread_mutexattr_init(&ma);
  pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
  pthread_mutex_init(&s->m, &ma);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
  pthread_cond_init(&s->c, &ca);
  fflush(stdout);
  pid_t pid = fork();
  const int me = pid == 0 ? 1 : 0;
  pthread_mutex_lock(&s->m);
  for (int i = 0; i < rounds; ++i) {
    while (s->turn != me) pthread_cond_wait(&s->c, &s->m);
    ++s->count;
    s->turn = 1 - me;
    pthread_cond_signal(&s->c);
  }
  pthread_mutex_unlock(&s->m);
  if (pid == 0) _exit(0);
  int status = 0;
  waitpid(pid, &status, 0);
  printf("process-shared ping-pong: count %d, child exit %d\n", s->count,
         WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  munmap(s, sizeof *s);
}

int main(void) {
  error_codes();
  contended_counters();
  ordered_queue();
  fork_with_held_locks();
  process_shared_ping_pong();
  return 0;
}
