#include "fork_reset.h"

#include <sched.h>

#include <atomic>

#include "glibc_locks.h"
#include "parking_lot.h"
#include "pshared_cond_bridge.h"
#include "thread_id.h"

namespace parklock {
namespace {

enum Registration : int { kNotRegistered, kRegistering, kRegistered };
std::atomic<int> g_registration{kNotRegistered};

}  // namespace

void reset_after_fork_in_child() {
  forget_tid();
  reset_parking_lot_after_fork();
  pshared_cond_bridge::reset_after_fork();
}

void register_fork_reset() {
  int state = g_registration.load(std::memory_order_acquire);
  if (state == kRegistered) return;
  if (state == kNotRegistered &&
      g_registration.compare_exchange_strong(state, kRegistering, std::memory_order_acquire)) {
    // No DSO handle: the library is never unloaded (-z nodelete).
    glibc::register_atfork(nullptr, nullptr, reset_after_fork_in_child, nullptr);
    g_registration.store(kRegistered, std::memory_order_release);
    return;
  }
  // Another thread registers right now; it returns in a few instructions.
  while (g_registration.load(std::memory_order_acquire) != kRegistered) sched_yield();
}

}  // namespace parklock
