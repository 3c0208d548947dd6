/* pthread_atfork handlers registered by a shared library's constructor, with
 * other threads blocked on the library's lock when fork() runs. In the child
 * the library's child handler unlocks that lock: the child must then be able
 * to take it (the blocked threads did not survive the fork), and errorcheck
 * ownership must follow the child's own thread id. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "thread_state.h"

extern pthread_mutex_t lib_lock;
extern pthread_mutex_t lib_child_lock;
extern int lib_child_unlock_errorcheck;
extern int lib_child_lock_result;
extern void (*lib_after_prepare)(void);

enum { kWaiters = 2 };
static atomic_int go;
static atomic_int waiter_tids[kWaiters];

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
  atomic_store(&waiter_tids[(long)arg], gettid());
  while (!atomic_load(&go)) sched_yield();
  pthread_mutex_lock(&lib_lock);
  pthread_mutex_unlock(&lib_lock);
  return NULL;
}

/* Runs in the prepare handler, lib_lock held: lets the waiters block on it,
 * and keeps them blocked past parklock's 1 ms fairness interval. */
static void let_waiters_block(void) {
  atomic_store(&go, 1);
  for (int i = 0; i < kWaiters; ++i) {
    while (atomic_load(&waiter_tids[i]) == 0) sched_yield();
    if (!wait_until_sleeping(atomic_load(&waiter_tids[i]), 5)) {
      fprintf(stderr, "waiter %d never blocked on lib_lock\n", i);
      exit(3);
    }
  }
}

int main(void) {
  pthread_t threads[kWaiters];
  for (long i = 0; i < kWaiters; ++i) pthread_create(&threads[i], NULL, waiter, (void*)i);
  lib_after_prepare = let_waiters_block;
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    alarm(20); /* a hung child fails the run instead of stalling it */
    int trylock = pthread_mutex_trylock(&lib_lock);
    if (trylock == 0) pthread_mutex_unlock(&lib_lock);
    printf("child: trylock of the lock the child handler released: %s\n", err_name(trylock));
    printf("child: handler's unlock of an errorcheck mutex the parent took: %s\n",
           err_name(lib_child_unlock_errorcheck));
    printf("child: handler's lock of a free errorcheck mutex: %s\n", err_name(lib_child_lock_result));
    printf("child: unlock of that mutex after fork returned: %s\n",
           err_name(pthread_mutex_unlock(&lib_child_lock)));
    fflush(stdout);
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  for (int i = 0; i < kWaiters; ++i) pthread_join(threads[i], NULL);
  printf("parent: child exited %s, waiters done\n",
         WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "cleanly" : "abnormally");
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
