/* pthread_cancel of threads blocked in pthread_cond_wait and
 * pthread_cond_timedwait (both are cancellation points): the thread must end
 * with PTHREAD_CANCELED, its cleanup handler running with the mutex held. A
 * thread still blocked after 5 s is reported and released, so a wrong answer
 * shows up as different output rather than a hang. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <time.h>

struct target {
  pthread_mutex_t m;
  pthread_cond_t c;
  int timed;
  int waiting;        /* guarded by m */
  int release;        /* guarded by m */
  int cleanup_unlock; /* set by the cleanup handler */
};

static void unlock_in_cleanup(void* arg) {
  struct target* t = arg;
  t->cleanup_unlock = pthread_mutex_unlock(&t->m);
}

static void* wait_until_cancelled(void* arg) {
  struct target* t = arg;
  pthread_mutex_lock(&t->m);
  pthread_cleanup_push(unlock_in_cleanup, t);
  t->waiting = 1;
  while (!t->release) {
    if (t->timed) {
      struct timespec at;
      clock_gettime(CLOCK_REALTIME, &at);
      at.tv_sec += 60;
      pthread_cond_timedwait(&t->c, &t->m, &at);
    } else {
      pthread_cond_wait(&t->c, &t->m);
    }
  }
  pthread_cleanup_pop(0);
  pthread_mutex_unlock(&t->m);
  return NULL;
}

static void cancel_waiter(int timed) {
  struct target t = {PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP, PTHREAD_COND_INITIALIZER, timed,
                     0, 0, -1};
  pthread_t thread;
  pthread_create(&thread, NULL, wait_until_cancelled, &t);
  for (int in_wait = 0; !in_wait;) {
    pthread_mutex_lock(&t.m);
    in_wait = t.waiting;
    pthread_mutex_unlock(&t.m);
    if (!in_wait) sched_yield();
  }
  pthread_cancel(thread);
  struct timespec limit;
  clock_gettime(CLOCK_REALTIME, &limit);
  limit.tv_sec += 5;
  void* result = NULL;
  int join = pthread_timedjoin_np(thread, &result, &limit);
  const int stuck = join == ETIMEDOUT;
  if (stuck) {
    pthread_mutex_lock(&t.m);
    t.release = 1;
    pthread_cond_broadcast(&t.c);
    pthread_mutex_unlock(&t.m);
    pthread_join(thread, &result);
  }
  printf("%s: %s, ended %s, cleanup unlock %s\n", timed ? "pthread_cond_timedwait" : "pthread_cond_wait",
         stuck ? "still blocked 5 s after pthread_cancel" : "left the wait",
         result == PTHREAD_CANCELED ? "cancelled" : "normally",
         t.cleanup_unlock == 0 ? "0 (mutex was held)" : "not run or failed");
}

int main(void) {
  cancel_waiter(0);
  cancel_waiter(1);
  return 0;
}
