/* _Fork() runs no atfork handlers, yet the child's only thread has a new
 * thread id and the parent's blocked threads are gone: errorcheck ownership
 * follows the child's tid, and a lock the forking thread held (with a
 * waiter blocked on it) is the child's to release and take again. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "thread_state.h"

static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t errorcheck;
static atomic_int waiter_tid;

static const char* err_name(int e) {
  switch (e) {
    case 0: return "0";
    case EBUSY: return "EBUSY";
    case EPERM: return "EPERM";
    case EDEADLK: return "EDEADLK";
    default: return "other";
  }
}

static void* waiter(void* arg) {
  (void)arg;
  atomic_store(&waiter_tid, gettid());
  pthread_mutex_lock(&held);
  pthread_mutex_unlock(&held);
  return NULL;
}

int main(void) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
  pthread_mutex_init(&errorcheck, &attr);
  pthread_mutexattr_destroy(&attr);

  pthread_mutex_lock(&held);
  pthread_mutex_lock(&errorcheck);
  pthread_t thread;
  pthread_create(&thread, NULL, waiter, NULL);
  while (atomic_load(&waiter_tid) == 0) sched_yield();
  if (!wait_until_sleeping(atomic_load(&waiter_tid), 5)) {
    fprintf(stderr, "the waiter never blocked\n");
    return 3;
  }
  fflush(stdout);
  pid_t pid = _Fork();
  if (pid == 0) {
    alarm(20);
    printf("child: unlock of the parent's errorcheck mutex: %s\n",
           err_name(pthread_mutex_unlock(&errorcheck)));
    printf("child: trylock of it: %s\n", err_name(pthread_mutex_trylock(&errorcheck)));
    printf("child: unlock of the held normal mutex: %s\n", err_name(pthread_mutex_unlock(&held)));
    int trylock = pthread_mutex_trylock(&held);
    printf("child: trylock of it after that: %s\n", err_name(trylock));
    if (trylock == 0) pthread_mutex_unlock(&held);
    pthread_mutex_t mine;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_init(&mine, &attr);
    int lock = pthread_mutex_lock(&mine);
    printf("child: lock + unlock of its own errorcheck mutex: %s %s\n", err_name(lock),
           err_name(pthread_mutex_unlock(&mine)));
    fflush(stdout);
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  pthread_mutex_unlock(&errorcheck);
  pthread_mutex_unlock(&held);
  pthread_join(thread, NULL);
  printf("parent: child exited %s\n", WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "cleanly" : "abnormally");
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
