// The fork entry points the preload takes over (see fork_reset.h):
// __register_atfork@GLIBC_2.3.2, which pthread_atfork (a static stub in
// libc_nonshared.a, linked into every caller) calls, and _Fork@GLIBC_2.34.
#include <unistd.h>

#include "fork_reset.h"
#include "glibc_locks.h"
#include "symbol_versions.h"

using namespace parklock;

// Ours goes first, so that it runs before every other child handler.
extern "C" PARKLOCK_SYMVER_DEFAULT(__register_atfork, "GLIBC_2.3.2")
int shim_register_atfork(void (*prepare)(), void (*parent)(), void (*child)(), void* dso_handle) {
  register_fork_reset();
  return glibc::register_atfork(prepare, parent, child, dso_handle);
}

// _Fork runs no atfork handlers: the child is reset here, before _Fork returns.
extern "C" PARKLOCK_SYMVER_DEFAULT(_Fork, "GLIBC_2.34")
pid_t shim_Fork() {
  pid_t pid = glibc::fork_without_handlers();
  if (pid == 0) reset_after_fork_in_child();
  return pid;
}
