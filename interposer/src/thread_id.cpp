#include "thread_id.h"

#include <pthread.h>

namespace parklock {
namespace {

void forget_tid_in_child() { t_cached_tid = 0; }

__attribute__((constructor)) void register_tid_fork_handler() {
  pthread_atfork(nullptr, nullptr, forget_tid_in_child);
}

}  // namespace
}  // namespace parklock
