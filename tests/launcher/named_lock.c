/* Names a lock through parklock.h, found with pkg-config: builds and runs
 * without the library, and under it the name is set. */
#include <parklock.h>
#include <stdio.h>

static pthread_mutex_t queue_mutex = PTHREAD_MUTEX_INITIALIZER;

int main(void) {
  PARKLOCK_SET_NAME(&queue_mutex, "request_queue");
  pthread_mutex_lock(&queue_mutex);
  pthread_mutex_unlock(&queue_mutex);
  printf("parklock %s\n", parklock_set_name != 0 ? "loaded" : "not loaded");
  return 0;
}
