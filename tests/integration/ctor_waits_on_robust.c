/* A library whose constructor waits for a robust mutex of the program that
 * loads it (dlopen runs constructors under the dynamic loader's lock). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>

__attribute__((constructor)) static void wait_for_the_program(void) {
  pthread_mutex_t* robust = dlsym(RTLD_DEFAULT, "program_robust_mutex");
  atomic_int* entered = dlsym(RTLD_DEFAULT, "program_constructor_entered");
  if (!robust || !entered) return;
  atomic_store(entered, 1);
  pthread_mutex_lock(robust);
  pthread_mutex_unlock(robust);
}
