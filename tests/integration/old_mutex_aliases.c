/* A program bound to glibc's old libpthread aliases
 * (__pthread_mutex_lock@GLIBC_2.2.5 and the like, as binaries built against
 * glibc before 2.34 may be), mixing them with the usual names on one mutex:
 * both must be the same lock. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#include "thread_state.h"

/* Local names bound to the old versioned symbols. */
__asm__(".symver old_mutex_init, __pthread_mutex_init@GLIBC_2.2.5");
__asm__(".symver old_mutex_destroy, __pthread_mutex_destroy@GLIBC_2.2.5");
__asm__(".symver old_mutex_lock, __pthread_mutex_lock@GLIBC_2.2.5");
__asm__(".symver old_mutex_trylock, __pthread_mutex_trylock@GLIBC_2.2.5");
__asm__(".symver old_mutex_unlock, __pthread_mutex_unlock@GLIBC_2.2.5");
int old_mutex_init(pthread_mutex_t*, const pthread_mutexattr_t*);
int old_mutex_destroy(pthread_mutex_t*);
int old_mutex_lock(pthread_mutex_t*);
int old_mutex_trylock(pthread_mutex_t*);
int old_mutex_unlock(pthread_mutex_t*);

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static atomic_int blocked_tid;
static atomic_int holds, release;
static int lock_result = -1, unlock_result = -1;

static const char* err_name(int e) {
  switch (e) {
    case 0: return "0";
    case EBUSY: return "EBUSY";
    case EPERM: return "EPERM";
    case EDEADLK: return "EDEADLK";
    default: return "other";
  }
}

/* Blocks on `m` through the old alias while main holds it (new name). */
static void* old_name_locker(void* arg) {
  (void)arg;
  atomic_store(&blocked_tid, gettid());
  lock_result = old_mutex_lock(&m);
  atomic_store(&holds, 1);
  while (!atomic_load(&release)) sched_yield();
  unlock_result = old_mutex_unlock(&m);
  return NULL;
}

int main(void) {
  alarm(20); /* a lost wake-up fails the run instead of stalling it */
  pthread_mutex_lock(&m);
  printf("old trylock while held by the new name: %s\n", err_name(old_mutex_trylock(&m)));
  pthread_t t;
  pthread_create(&t, NULL, old_name_locker, NULL);
  while (atomic_load(&blocked_tid) == 0) sched_yield();
  wait_until_sleeping(atomic_load(&blocked_tid), 10);
  printf("new unlock with an old-name waiter: %s\n", err_name(pthread_mutex_unlock(&m)));
  while (!atomic_load(&holds)) sched_yield();
  printf("old lock after the wait: %s\n", err_name(lock_result));
  printf("new trylock while held by the old name: %s\n", err_name(pthread_mutex_trylock(&m)));
  atomic_store(&release, 1);
  pthread_join(t, NULL);
  printf("old unlock: %s\n", err_name(unlock_result));

  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
  pthread_mutex_t e;
  printf("old init errorcheck: %s\n", err_name(old_mutex_init(&e, &attr)));
  pthread_mutexattr_destroy(&attr);
  int lock = pthread_mutex_lock(&e);
  int relock = pthread_mutex_lock(&e);
  printf("new lock: %s, new relock: %s\n", err_name(lock), err_name(relock));
  int unlock = old_mutex_unlock(&e);
  int unlock_again = old_mutex_unlock(&e);
  printf("old unlock: %s, old unlock again: %s\n", err_name(unlock), err_name(unlock_again));
  printf("old destroy: %s\n", err_name(old_mutex_destroy(&e)));
  printf("new lock after destroy: %s\n", pthread_mutex_lock(&e) == EINVAL ? "EINVAL" : "not EINVAL");
  return 0;
}
