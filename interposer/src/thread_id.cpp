#include "thread_id.h"

#include <unistd.h>

#include "fork_reset.h"

namespace parklock {
namespace {

// Links the fork reset into every user of current_tid() (see fork_reset.h).
__attribute__((constructor)) void register_tid_fork_handler() { register_fork_reset(); }

}  // namespace

pid_t fetch_tid() { return t_cached_tid = gettid(); }

}  // namespace parklock
