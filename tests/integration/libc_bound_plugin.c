/* A plugin that a program loads with RTLD_DEEPBIND: its calls bind to the
 * definitions of its own dependencies first, so pthread_mutex_* here are
 * libc's even when a preload defines them too. It locks the program's
 * mutexes with glibc's own lock code. */
#define _GNU_SOURCE
#include <pthread.h>
#include <time.h>

/* The function this plugin's pthread_mutex_lock calls resolve to. */
void* plugin_mutex_lock_function(void) { return (void*)&pthread_mutex_lock; }

int plugin_lock(pthread_mutex_t* m) { return pthread_mutex_lock(m); }
int plugin_trylock(pthread_mutex_t* m) { return pthread_mutex_trylock(m); }
int plugin_unlock(pthread_mutex_t* m) { return pthread_mutex_unlock(m); }
int plugin_timedlock(pthread_mutex_t* m, const struct timespec* at) {
  return pthread_mutex_timedlock(m, at);
}
