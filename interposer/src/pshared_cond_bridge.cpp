#include "pshared_cond_bridge.h"

#include <atomic>
#include <cstdint>

#include "glibc_locks.h"

namespace parklock::pshared_cond_bridge {
namespace {

// One bridge per condvar address hash: waits on unrelated condvars rarely
// serialize on one bridge. glibc's all-zero initializer; only glibc's
// functions touch them.
constexpr size_t kBridges = 16;
pthread_mutex_t g_bridges[kBridges];

// Set by the first bridged wait, never cleared.
std::atomic<bool> g_bridge_used{false};

pthread_mutex_t* bridge_for(const pthread_cond_t* c) {
  return &g_bridges[(reinterpret_cast<uintptr_t>(c) >> 6) % kBridges];
}

struct CancelCleanup {
  pthread_mutex_t* bridge;
  FunctionRef<void()>* reacquire;
};

// glibc's cancelled cond_wait takes the bridge back before unwinding; the
// caller's mutex must be held again too when its own cleanup handlers run.
void release_bridge_on_cancel(void* arg) {
  auto* cleanup = static_cast<CancelCleanup*>(arg);
  glibc::mutex_unlock(cleanup->bridge);
  (*cleanup->reacquire)();
}

template <typename Notify>
int notify(pthread_cond_t* c, Notify glibc_notify) {
  if (!g_bridge_used.load(std::memory_order_relaxed)) return glibc_notify(c);
  pthread_mutex_t* bridge = bridge_for(c);
  glibc::mutex_lock(bridge);
  int r = glibc_notify(c);
  glibc::mutex_unlock(bridge);
  return r;
}

}  // namespace

int wait(pthread_cond_t* c, const Deadline& deadline, FunctionRef<void()> release,
         FunctionRef<void()> reacquire) {
  pthread_mutex_t* bridge = bridge_for(c);
  // Before the release: a notifier that later changes the predicate under
  // the caller's mutex sees it.
  g_bridge_used.store(true, std::memory_order_relaxed);
  glibc::mutex_lock(bridge);
  release();
  CancelCleanup cleanup{bridge, &reacquire};
  int r;
  pthread_cleanup_push(release_bridge_on_cancel, &cleanup);
  r = deadline.is_forever() ? glibc::cond_wait(c, bridge)
                            : glibc::cond_clockwait(c, bridge, deadline.clock, deadline.at);
  pthread_cleanup_pop(0);
  glibc::mutex_unlock(bridge);
  reacquire();
  return r;
}

void reset_after_fork() {
  for (pthread_mutex_t& bridge : g_bridges) bridge = pthread_mutex_t{};
}

int signal(pthread_cond_t* c) { return notify(c, glibc::cond_signal); }
int broadcast(pthread_cond_t* c) { return notify(c, glibc::cond_broadcast); }

}  // namespace parklock::pshared_cond_bridge
