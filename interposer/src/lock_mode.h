// lock_mode.h: whose lock algorithms serve the process.
//
// PARKLOCK_LOCKS=glibc keeps glibc's algorithms for every lock (observe-only:
// the recorder still times each blocking call, the way mutrace does: a try
// first, then the timed blocking call). The mode is read from the
// environment at the first lock call of the process, before any lock could
// hold state in either encoding, and never changes; every *_ops entry point
// checks it first, one load of a global and a branch.
#pragma once

#include <atomic>

namespace parklock {

namespace lock_mode {
inline constexpr int kUnknown = 0;
inline constexpr int kParklock = 1;
inline constexpr int kGlibc = 2;
extern std::atomic<int> g_mode;
bool observe_only_slow();  // reads PARKLOCK_LOCKS
}  // namespace lock_mode

inline bool observe_only() {
  int mode = lock_mode::g_mode.load(std::memory_order_relaxed);
  if (__builtin_expect(mode == lock_mode::kParklock, 1)) return false;
  return mode == lock_mode::kGlibc || lock_mode::observe_only_slow();
}

}  // namespace parklock
