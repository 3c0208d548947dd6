#include "thread_id.h"

#include <pthread.h>
#include <unistd.h>

namespace parklock {
namespace {

void forget_tid_in_child() { t_cached_tid = 0; }

// Lives in this file so that any user of current_tid() links it in, even from
// the static library.
__attribute__((constructor)) void register_tid_fork_handler() {
  pthread_atfork(nullptr, nullptr, forget_tid_in_child);
}

}  // namespace

pid_t fetch_tid() { return t_cached_tid = gettid(); }

}  // namespace parklock
