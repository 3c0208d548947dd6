/* A shared library that protects its state the usual way across fork(): its
 * constructor registers pthread_atfork handlers that take its locks before
 * the fork and release them on both sides. The program links it, so this
 * constructor runs before a preloaded library's. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stddef.h>

pthread_mutex_t lib_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t lib_errorcheck;  /* taken by prepare, like lib_lock */
pthread_mutex_t lib_child_lock;  /* errorcheck, taken by the child handler */
int lib_child_unlock_errorcheck = -1;
int lib_child_lock_result = -1;
void (*lib_after_prepare)(void); /* called with the locks held, before the fork */

static void prepare(void) {
  pthread_mutex_lock(&lib_lock);
  pthread_mutex_lock(&lib_errorcheck);
  if (lib_after_prepare) lib_after_prepare();
}

static void parent(void) {
  pthread_mutex_unlock(&lib_errorcheck);
  pthread_mutex_unlock(&lib_lock);
}

static void child(void) {
  /* The parent's thread took lib_errorcheck: not the child's to unlock. */
  lib_child_unlock_errorcheck = pthread_mutex_unlock(&lib_errorcheck);
  pthread_mutex_unlock(&lib_lock);
  lib_child_lock_result = pthread_mutex_lock(&lib_child_lock);
}

__attribute__((constructor)) static void register_handlers(void) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
  pthread_mutex_init(&lib_errorcheck, &attr);
  pthread_mutex_init(&lib_child_lock, &attr);
  pthread_mutexattr_destroy(&attr);
  pthread_atfork(prepare, parent, child);
}
