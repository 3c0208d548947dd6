#include "lock_mode.h"

#include <cstdlib>
#include <cstring>

namespace parklock::lock_mode {

std::atomic<int> g_mode{kUnknown};

// getenv neither locks nor allocates. Threads racing here all compute the
// same answer. A bad value is reported by read_settings (settings.cpp).
bool observe_only_slow() {
  const char* value = getenv("PARKLOCK_LOCKS");
  const bool glibc = value && strcmp(value, "glibc") == 0;
  g_mode.store(glibc ? kGlibc : kParklock, std::memory_order_relaxed);
  return glibc;
}

}  // namespace parklock::lock_mode
