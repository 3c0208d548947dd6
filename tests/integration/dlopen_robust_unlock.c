/* Thread A dlopens a library whose constructor blocks on a robust mutex that
 * thread B holds; B then unlocks it, for the first time in the process (a
 * robust mutex is served by glibc's own code under the preload). Nothing in
 * that unlock may wait for the dynamic loader's lock, which A holds. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#include "thread_state.h"

/* Found by the library through dlsym (the program exports its symbols). */
pthread_mutex_t program_robust_mutex;
atomic_int program_constructor_entered;

static atomic_int b_holds;
static atomic_int a_tid;
static const char* library_path;
static int b_lock = -1, b_unlock = -1;
static int a_loaded;

static void* loader(void* arg) {
  (void)arg;
  atomic_store(&a_tid, gettid());
  while (!atomic_load(&b_holds)) sched_yield();
  void* handle = dlopen(library_path, RTLD_NOW);
  if (!handle) fprintf(stderr, "dlopen: %s\n", dlerror());
  a_loaded = handle != NULL;
  return NULL;
}

static void* holder(void* arg) {
  (void)arg;
  b_lock = pthread_mutex_lock(&program_robust_mutex);
  atomic_store(&b_holds, 1);
  while (!atomic_load(&program_constructor_entered)) sched_yield();
  /* A is inside the constructor: let it block on the mutex. */
  while (atomic_load(&a_tid) == 0) sched_yield();
  wait_until_sleeping(atomic_load(&a_tid), 20);
  b_unlock = pthread_mutex_unlock(&program_robust_mutex);
  return NULL;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s LIBRARY\n", argv[0]);
    return 2;
  }
  library_path = argv[1];
  alarm(20); /* a deadlock fails the run instead of stalling it */
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_init(&program_robust_mutex, &attr);
  pthread_mutexattr_destroy(&attr);
  pthread_t a, b;
  pthread_create(&b, NULL, holder, NULL);
  pthread_create(&a, NULL, loader, NULL);
  pthread_join(b, NULL);
  pthread_join(a, NULL);
  printf("B: lock %d, unlock %d; A: library %s\n", b_lock, b_unlock, a_loaded ? "loaded" : "not loaded");
  return a_loaded ? 0 : 1;
}
